"""The Slack app (slack-bolt, sync): thin listeners that parse, call the Copilot facade, and render.

Slack wants an answer within 3 seconds and retries deliveries it thinks failed, so every
listener acknowledges first (Bolt acks events itself and runs listeners on a worker pool), drafts
after, and updates the message it posted. Event deliveries are claimed once by ``event_id``, and
each suggestion takes one outcome (the application layer's rule), so a retry or a double click
never posts a reply twice. Any failure shows the agent a short message, with details in the log.

Slack Connect: a channel shared with another organisation never shows a draft, its sources or its
buttons publicly. Drafts there go to a mapped internal channel, or ephemerally to the home team's
agents in the channel; buttons, shortcuts and commands from anyone outside the home team (or the
allowed user group) are refused and logged.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from copilot.config import SlackChannel, SlackConfig
from copilot.errors import ConfigError, ConflictError, CopilotError
from copilot.integrations.slack import blocks as ui
from copilot.models import FeedbackReason, Message, Suggestion, Ticket

if TYPE_CHECKING:
    from slack_bolt import App, BoltResponse
    from slack_sdk import WebClient

    from copilot.service import Copilot

__all__ = ["SlackCopilot", "asgi_routes", "build_app", "http_app", "serve"]

log = logging.getLogger(__name__)
STREAM_UPDATE_S = 1.0   # chat.update is rate limited (about 1 per second per channel)
TICKET_SUBTYPES = {None, "file_share", "thread_broadcast", "bot_message"}
LOOKUP_TTL_S = 300.0    # channel sharing, users' teams and group members are looked up again after this
MAX_AGENTS = 20         # ephemeral copies of one draft in a shared channel
# What chat.postEphemeral says when the bot cannot post in a channel (private ones look missing).
NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found"}
INTERACTIVE = {"block_actions", "view_submission", "message_action", "shortcut"}


def _explain(exc: BaseException) -> str:
    if isinstance(exc, CopilotError):
        return f"{exc.message} [{exc.code}]"
    return f"something went wrong ({type(exc).__name__}); the details are in the copilot log"


class SlackCopilot:
    """Listeners and the state they share; ``app`` is the Bolt app to serve."""

    def __init__(self, copilot: Copilot, *, token: str, signing_secret: str,
                 channels: dict[str, SlackChannel] | None = None, client: WebClient | None = None,
                 token_verification: bool = True, settings: SlackConfig | None = None) -> None:
        from slack_bolt import App

        self.copilot = copilot
        self.settings = settings if settings is not None else copilot.config.slack
        self.channels = channels if channels is not None else self.settings.channels
        self._lookups: dict[tuple[str, str], tuple[float, Any]] = {}
        # The brands this workspace works for: a button never reaches another brand's suggestion.
        self.brands = {c.brand for c in self.channels.values()} | {copilot.default_brand()}
        self.app: App = App(token=token, signing_secret=signing_secret, client=client,
                            token_verification_enabled=token_verification, name="support-copilot")
        self._register()

    # --- wiring --------------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.use(self.gate)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home)
        app.command("/copilot")(self.on_command)
        app.shortcut("copilot_suggest_reply")(self.on_shortcut)
        app.action(ui.ACTIONS["send"])(self.on_send)
        app.action(ui.ACTIONS["edit"])(self.on_edit)
        app.action(ui.ACTIONS["regenerate"])(self.on_regenerate)
        app.action(ui.ACTIONS["shorter"])(self.on_shorter)
        app.action(ui.ACTIONS["friendlier"])(self.on_friendlier)
        app.action(ui.ACTIONS["not_helpful"])(self.on_not_helpful)
        app.action(ui.ACTIONS["show_more"])(self.on_show_more)
        app.view(ui.EDIT_VIEW)(self.on_edit_submit)
        app.view(ui.REASON_VIEW)(self.on_reason_submit)
        app.error(self.on_error)

    def on_error(self, error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
        # The last net: a listener that raised past its own handling. Slack already got its ack.
        logger.exception("Slack listener failed: %s", type(error).__name__, exc_info=error)

    # --- who may act, and where drafts may be shown (Slack Connect) ----------------------------

    def _lookup(self, kind: str, key: str, fetch: Callable[[], Any]) -> Any:
        """A Web API answer kept for LOOKUP_TTL_S (sharing and membership change rarely)."""
        now = time.monotonic()
        hit = self._lookups.get((kind, key))
        if hit is not None and now - hit[0] < LOOKUP_TTL_S:
            return hit[1]
        value = fetch()
        self._lookups[(kind, key)] = (now, value)
        return value

    def _home_teams(self, client: WebClient) -> set[str]:
        if self.settings.home_teams:
            return set(self.settings.home_teams)
        teams: set[str] = self._lookup("home", "", lambda: {str(client.auth_test()["team_id"])})
        return teams

    def _in_group(self, client: WebClient, user: str) -> bool:
        group = self.settings.allowed_usergroup
        if not group:
            return True
        members = self._lookup("group", group, lambda: set(
            client.usergroups_users_list(usergroup=group).get("users") or []))
        return user in members

    def may_act(self, client: WebClient, user: str | None, team: str | None) -> bool:
        """Whether this user may see drafts and press buttons: a member of the home team (and of the
        allowed group when one is configured)."""
        return bool(user) and team in self._home_teams(client) and self._in_group(client, str(user))

    @staticmethod
    def _actor(body: dict[str, Any]) -> tuple[str | None, str | None]:
        user = body.get("user")
        if isinstance(user, dict):  # interactions: the user's own team first (Slack Connect guests differ)
            return user.get("id"), user.get("team_id") or (body.get("team") or {}).get("id")
        return body.get("user_id"), body.get("user_team") or body.get("team_id")  # slash commands

    def gate(self, body: dict[str, Any], client: WebClient, next: Callable[[], None]) -> BoltResponse | None:
        """Bolt middleware: buttons, modals, shortcuts and /copilot only for the home team."""
        if body.get("type") not in INTERACTIVE and not body.get("command"):
            next()
            return None
        user, team = self._actor(body)
        if self.may_act(client, user, team):
            next()
            return None
        from slack_bolt import BoltResponse

        what = body.get("command") or body.get("type")
        log.warning("refused Slack %s from user %s of team %s: outside the home team or the allowed group",
                    what, user, team)
        channel = body.get("channel_id") or (body.get("channel") or {}).get("id") or (
            body.get("container") or {}).get("channel_id")
        self._tell(client, {"channel": channel, "response_url": body.get("response_url")}, user,
                   "Sorry, only the support team's agents can use the copilot here.")
        return BoltResponse(status=200, body="")

    def _is_shared(self, client: WebClient, channel: str) -> bool:
        def fetch() -> bool:
            try:
                info = client.conversations_info(channel=channel)["channel"]
            except Exception:
                # Unknown means unsafe: nothing is posted publicly where customers might read it.
                log.warning("could not tell whether %s is shared; drafts there stay private", channel, exc_info=True)
                return True
            return bool(info.get("is_ext_shared") or info.get("is_shared") or info.get("is_pending_ext_shared"))

        return bool(self._lookup("shared", channel, fetch))

    def _is_agent(self, client: WebClient, user: str) -> bool:
        def fetch() -> bool:
            try:
                info = client.users_info(user=user)["user"]
            except Exception:
                log.warning("could not look up Slack user %s", user, exc_info=True)
                return False
            return (not info.get("is_bot") and not info.get("deleted")
                    and self.may_act(client, user, info.get("team_id")))

        return bool(self._lookup("agent", user, fetch))

    def _agents_in(self, client: WebClient, channel: str) -> list[str]:
        members = client.conversations_members(channel=channel, limit=200).get("members") or []
        return [u for u in members if self._is_agent(client, u)][:MAX_AGENTS]

    # --- a customer message in a watched channel ----------------------------------------------

    def _watched(self, event: dict[str, Any]) -> SlackChannel | None:
        channel = self.channels.get(event.get("channel", ""))
        if channel is None or event.get("subtype") not in TICKET_SUBTYPES:
            return None
        if event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
            return None  # replies in a thread are the conversation, not a new ticket
        # Our own posts are dropped by Bolt; other bots only count when they post tickets (a helpdesk).
        is_bot = bool(event.get("bot_id")) or event.get("subtype") == "bot_message"
        if is_bot and event.get("bot_id") not in channel.ticket_bots:
            return None
        if not (event.get("text") or "").strip():
            return None
        return channel

    def on_message(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        channel_cfg = self._watched(event)
        if channel_cfg is None:
            return
        if not self.copilot.claim(f"slack:event:{body.get('event_id') or event.get('client_msg_id') or event['ts']}"):
            return  # a retry of a delivery already handled
        channel, ts = event["channel"], event["ts"]
        context: dict[str, Any] = {"source": "channel", "channel": channel, "thread_ts": ts}
        m = re.search(channel_cfg.ticket_id_pattern, event["text"]) if channel_cfg.ticket_id_pattern else None
        if m:
            context["ticket_id"] = m.group(1) if m.groups() else m.group(0)
            if channel_cfg.helpdesk:
                context["helpdesk"] = channel_cfg.helpdesk  # "Send" replies on the helpdesk ticket
        ticket = Ticket(id=context.get("ticket_id") or f"slack:{channel}:{ts}", brand=channel_cfg.brand,
                        messages=[Message(author="customer", body=event["text"])])
        guest = event.get("user_team") not in (None, *self._home_teams(client))
        if guest or self._is_shared(client, channel):
            if channel_cfg.internal_channel:
                self._suggest_in_internal(client, channel_cfg, ticket, context, event["text"])
            else:
                self._suggest_to_agents(client, channel_cfg, ticket, context)
            return
        self._suggest_in_thread(client, channel, ts, channel_cfg, ticket, context)

    def _suggest_in_thread(self, client: WebClient, channel: str, thread_ts: str | None, channel_cfg: SlackChannel,
                           ticket: Ticket, context: dict[str, Any]) -> None:
        """Post a placeholder in ``channel`` (in ``thread_ts``), draft, and update it with the suggestion."""
        placeholder = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text="Drafting a suggestion…",
                                              blocks=ui.progress_blocks())
        message_ts = placeholder["ts"]
        context = {**context, "message_ts": message_ts}
        try:
            s = self.copilot.suggest(ticket, brand=channel_cfg.brand, channel="slack", context=context,
                                     on_partial=self._streamer(client, channel, message_ts))
            client.chat_update(channel=channel, ts=message_ts, text=ui.fallback_text(s),
                               blocks=ui.suggestion_blocks(s))
        except Exception as exc:
            log.exception("drafting for Slack message %s in %s failed", context["thread_ts"], context["channel"])
            client.chat_update(channel=channel, ts=message_ts, text="No suggestion",
                               blocks=ui.error_blocks(f"No suggestion for this message: {_explain(exc)}"))

    def _suggest_in_internal(self, client: WebClient, channel_cfg: SlackChannel, ticket: Ticket,
                             context: dict[str, Any], text: str) -> None:
        """A shared channel's draft goes to its internal channel: the customer's message quoted there,
        the suggestion in its thread. Send still answers in the shared channel's thread."""
        internal = str(channel_cfg.internal_channel)
        quote = "\n".join("> " + line for line in text[:500].splitlines())
        head = client.chat_postMessage(channel=internal, text=f"Customer message in <#{context['channel']}>",
                                       blocks=[{"type": "section", "text": {"type": "mrkdwn", "text":
                                                f"Customer message in <#{context['channel']}>:\n{quote}"}}])
        self._suggest_in_thread(client, internal, head["ts"], channel_cfg, ticket, context)

    def _suggest_to_agents(self, client: WebClient, channel_cfg: SlackChannel, ticket: Ticket,
                           context: dict[str, Any]) -> None:
        """A shared channel without an internal one: the draft goes ephemerally to each home-team agent
        in the channel (buttons on it answer through its response URL)."""
        channel = context["channel"]
        agents = self._agents_in(client, channel)
        if not agents:
            log.warning("no home-team agent in shared channel %s: its draft is not shown (map an "
                        "internal_channel to see drafts there)", channel)
            return
        try:
            s = self.copilot.suggest(ticket, brand=channel_cfg.brand, channel="slack", context=context)
            text, blocks = ui.fallback_text(s), ui.suggestion_blocks(s)
        except Exception as exc:
            log.exception("drafting for Slack message %s in %s failed", context["thread_ts"], channel)
            text = f"No suggestion for this message: {_explain(exc)}"
            blocks = ui.error_blocks(text)
        for agent in agents:
            try:
                client.chat_postEphemeral(channel=channel, user=agent, thread_ts=context["thread_ts"], text=text,
                                          blocks=blocks)
            except Exception:
                log.exception("could not show the draft to %s in %s", agent, channel)

    @staticmethod
    def _streamer(client: WebClient, channel: str, ts: str) -> Callable[[str], None]:
        """Show the reply while an LLM writes it, at most once a second (chat.update's rate)."""
        last = [0.0]

        def show(text: str) -> None:
            now = time.monotonic()
            if now - last[0] < STREAM_UPDATE_S:
                return
            last[0] = now
            try:
                client.chat_update(channel=channel, ts=ts, text=text[:3000],
                                   blocks=[*ui.progress_blocks("Writing…"), *ui.text_blocks(text)])
            except Exception:
                log.debug("a progress update was dropped", exc_info=True)

        return show

    # --- /copilot and the message shortcut -----------------------------------------------------

    def _brand_for(self, channel: str | None) -> str:
        cfg = self.channels.get(channel or "")
        return cfg.brand if cfg else self.copilot.default_brand()

    def on_command(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        text = (command.get("text") or "").strip()
        if not text:
            ack(response_type="ephemeral", text="Usage: `/copilot <the customer's message>`")
            return
        ack(response_type="ephemeral", text="Drafting a suggestion…")
        brand = self._brand_for(command.get("channel_id"))
        ticket = Ticket(brand=brand, messages=[Message(author="customer", body=text)])
        try:
            s = self.copilot.suggest(ticket, brand=brand, channel="slack", context={
                "source": "command", "channel": command.get("channel_id")})
            respond(response_type="ephemeral", replace_original=True, text=ui.fallback_text(s),
                    blocks=ui.suggestion_blocks(s))
        except Exception as exc:
            log.exception("/copilot failed")
            respond(response_type="ephemeral", replace_original=True, text=f"No suggestion: {_explain(exc)}")

    def on_shortcut(self, ack: Callable[..., None], shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        message = shortcut.get("message") or {}
        channel = str((shortcut.get("channel") or {}).get("id", ""))
        user = str((shortcut.get("user") or {}).get("id", ""))
        thread_ts = message.get("thread_ts") or message.get("ts")
        text = (message.get("text") or "").strip()
        try:
            if not text:
                raise CopilotError("that message has no text to answer")
            brand = self._brand_for(channel)
            ticket = Ticket(brand=brand, messages=[Message(author="customer", body=text)])
            s = self.copilot.suggest(ticket, brand=brand, channel="slack", context={
                "source": "shortcut", "channel": channel, "thread_ts": thread_ts})
            answer, blocks = ui.fallback_text(s), ui.suggestion_blocks(s)
        except Exception as exc:
            log.exception("Suggest reply shortcut failed")
            answer, blocks = f"No suggestion: {_explain(exc)}", ui.error_blocks(f"No suggestion: {_explain(exc)}")
        self._privately(client, channel, user, thread_ts, answer, blocks)

    def _privately(self, client: WebClient, channel: str, user: str, thread_ts: str | None, text: str,
                   blocks: list[dict[str, Any]]) -> None:
        """Ephemeral in the channel; in a direct message when the bot is not a member there
        (chat.postEphemeral needs it), saying how to fix that."""
        from slack_sdk.errors import SlackApiError

        try:
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=text, blocks=blocks)
            return
        except SlackApiError as exc:
            if exc.response.get("error") not in NOT_IN_CHANNEL:
                raise
        note = (f"I'm not a member of <#{channel}>, so here is my suggestion in private. Invite me there with "
                "`/invite @copilot` to see suggestions in the channel and send replies from Slack.")
        client.chat_postMessage(channel=user, text=f"{note}\n{text}", blocks=[
            {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}, *blocks])

    # --- buttons -------------------------------------------------------------------------------

    @staticmethod
    def _sid(body: dict[str, Any]) -> str:
        return str(body["actions"][0]["value"])

    @staticmethod
    def _where(body: dict[str, Any]) -> dict[str, Any]:
        """Where the pressed message lives: a channel message (updated by ts) or an ephemeral one
        (replaced through its response_url)."""
        container = body.get("container") or {}
        return {"channel": container.get("channel_id") or (body.get("channel") or {}).get("id"),
                "ts": container.get("message_ts"), "ephemeral": bool(container.get("is_ephemeral")),
                "response_url": body.get("response_url")}

    def _show(self, client: WebClient, where: dict[str, Any], text: str, blocks: list[dict[str, Any]]) -> None:
        if where.get("ephemeral") or not where.get("ts"):
            if where.get("response_url"):
                from slack_sdk.webhook import WebhookClient

                WebhookClient(where["response_url"]).send(text=text, blocks=blocks, replace_original=True,
                                                          response_type="ephemeral")
            return
        client.chat_update(channel=where["channel"], ts=where["ts"], text=text, blocks=blocks)

    def _tell(self, client: WebClient, where: dict[str, Any], user: str | None, text: str) -> None:
        """A short ephemeral note to the agent who acted, where they acted (see ``_where``)."""
        try:
            if where.get("channel") and user:
                client.chat_postEphemeral(channel=where["channel"], user=user, text=text)
            elif where.get("response_url"):
                from slack_sdk.webhook import WebhookClient

                WebhookClient(where["response_url"]).send(text=text, response_type="ephemeral",
                                                          replace_original=False)
        except Exception:
            log.exception("could not tell the agent: %s", text)

    def _guard(self, client: WebClient, where: dict[str, Any], user: str | None, what: str,
               fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception as exc:
            log.exception("Slack action %s failed", what)
            self._tell(client, where, user, f"Could not {what}: {_explain(exc)}")

    def _guard_action(self, body: dict[str, Any], client: WebClient, what: str, fn: Callable[[], object]) -> None:
        self._guard(client, self._where(body), (body.get("user") or {}).get("id"), what, fn)

    def _finish(self, sid: str, outcome: str, user: str, client: WebClient, where: dict[str, Any], *,
                final_text: str | None = None, reason: FeedbackReason | None = None,
                comment: str | None = None) -> bool:
        """Record the outcome (before anything is shown as done) and deliver a sent reply: the
        application layer replies on the helpdesk ticket when the suggestion came from one, else it is
        posted in the thread here. One outcome per suggestion: a second click is told, not repeated."""
        shown = self.copilot.get_suggestion(sid, brands=self.brands)
        try:
            if outcome == "rejected":
                rec = self.copilot.record_feedback(sid, "rejected", agent=user, channel="slack", reason=reason,
                                                   comment=comment, brands=self.brands)
            else:
                def post_in_thread(text: str) -> None:
                    channel = shown.context.get("channel") or where.get("channel")
                    if not channel:
                        raise ConfigError("no channel to send the reply to")
                    self._post_reply(client, channel, shown.context.get("thread_ts"), text, user)

                rec = self.copilot.send(sid, agent=user, channel="slack", final_text=final_text, brands=self.brands,
                                        deliver=post_in_thread).record
        except ConflictError:
            self._tell(client, where, user, "This suggestion was already handled.")
            return False
        self._show(client, where, f"Suggestion {rec.outcome}",
                   ui.outcome_blocks(shown.suggestion, rec.outcome, user, rec.final_text))
        return True

    def _post_reply(self, client: WebClient, channel: str, thread_ts: str | None, text: str, agent: str) -> None:
        """The reply for the customer, in the customer's thread: as the agent (name and picture) when
        ``send_as_agent`` is set and the app has chat:write.customize, else as the app."""
        from slack_sdk.errors import SlackApiError

        who = self._as_agent(client, agent) if self.settings.send_as_agent else {}
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, username=who.get("username"),
                                    icon_url=who.get("icon_url"))
        except SlackApiError as exc:
            if exc.response.get("error") in NOT_IN_CHANNEL:
                raise ConfigError(f"I'm not a member of <#{channel}>, so I cannot send the reply there",
                                  hint="invite me with /invite @copilot, or copy the reply") from exc
            raise

    def _as_agent(self, client: WebClient, agent: str) -> dict[str, str]:
        try:
            profile = client.users_info(user=agent)["user"].get("profile") or {}
        except Exception:
            log.warning("could not look up %s to send as them; sending as the app", agent, exc_info=True)
            return {}
        name = profile.get("display_name") or profile.get("real_name")
        icon = profile.get("image_72") or profile.get("image_48")
        return {k: str(v) for k, v in (("username", name), ("icon_url", icon)) if v}

    def on_send(self, ack: Callable[[], None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._guard_action(body, client, "send the reply", lambda: self._finish(
            self._sid(body), "accepted", body["user"]["id"], client, self._where(body)))

    def _meta(self, body: dict[str, Any]) -> str:
        return json.dumps({"sid": self._sid(body), **self._where(body)})

    def on_edit(self, ack: Callable[[], None], body: dict[str, Any], client: WebClient) -> None:
        ack()

        def run() -> None:
            s = self.copilot.get_suggestion(self._sid(body), brands=self.brands).suggestion
            client.views_open(trigger_id=body["trigger_id"], view=ui.edit_modal(s, private_metadata=self._meta(body)))

        self._guard_action(body, client, "open the editor", run)

    def on_edit_submit(self, ack: Callable[..., None], body: dict[str, Any], view: dict[str, Any],
                       client: WebClient) -> None:
        text = (view["state"]["values"]["reply"]["text"].get("value") or "").strip()
        if not text:
            ack(response_action="errors", errors={"reply": "The reply is empty."})
            return
        meta = json.loads(view["private_metadata"])
        user = body["user"]["id"]
        ack()
        self._guard(client, meta, user, "send the edited reply",
                    lambda: self._finish(meta["sid"], "edited", user, client, meta, final_text=text))

    def _replace(self, body: dict[str, Any], client: WebClient, make: Callable[[str], Suggestion], what: str) -> None:
        """Show a new suggestion in place of the pressed one (``make`` gets the old one's id)."""
        where = self._where(body)
        sid = self._sid(body)

        def run() -> None:
            old = self.copilot.get_suggestion(sid, brands=self.brands).suggestion
            self._show(client, where, "Working…", ui.progress_blocks("Working on it…"))
            try:
                new = make(sid)
            except Exception:
                self._show(client, where, ui.fallback_text(old), ui.suggestion_blocks(old))  # the old one stays usable
                raise
            self._show(client, where, ui.fallback_text(new), ui.suggestion_blocks(new))

        self._guard_action(body, client, what, run)

    def on_regenerate(self, ack: Callable[[], None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        self._replace(body, client, lambda sid: self.copilot.regenerate(sid, agent=user, brands=self.brands),
                      "regenerate the suggestion")

    def on_shorter(self, ack: Callable[[], None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._replace(body, client, lambda sid: self.copilot.rewrite_shown(sid, "shorter", brands=self.brands),
                      "shorten the reply")

    def on_friendlier(self, ack: Callable[[], None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._replace(body, client, lambda sid: self.copilot.rewrite_shown(sid, "friendlier", brands=self.brands),
                      "rewrite the reply")

    def on_not_helpful(self, ack: Callable[[], None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        self._guard_action(body, client, "open the feedback form", lambda: client.views_open(
            trigger_id=body["trigger_id"], view=ui.not_helpful_modal(private_metadata=self._meta(body))))

    def on_reason_submit(self, ack: Callable[..., None], body: dict[str, Any], view: dict[str, Any],
                         client: WebClient) -> None:
        values = view["state"]["values"]
        reason = ((values["reason"]["value"].get("selected_option") or {}).get("value"))
        if not reason:
            ack(response_action="errors", errors={"reason": "Pick a reason."})
            return
        comment = (values.get("comment", {}).get("text", {}).get("value") or "").strip() or None
        meta = json.loads(view["private_metadata"])
        user = body["user"]["id"]
        ack()
        self._guard(client, meta, user, "record the feedback",
                    lambda: self._finish(meta["sid"], "rejected", user, client, meta, reason=reason,
                                         comment=comment))

    def on_show_more(self, ack: Callable[[], None], body: dict[str, Any], client: WebClient) -> None:
        ack()

        def run() -> None:
            s = self.copilot.get_suggestion(self._sid(body), brands=self.brands).suggestion
            client.views_open(trigger_id=body["trigger_id"], view=ui.full_reply_modal(s))

        self._guard_action(body, client, "show the whole reply", run)

    # --- App Home ------------------------------------------------------------------------------

    def on_home(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        client.views_publish(user_id=user, view=ui.home_view(self.copilot.feedback_stats(agent=user),
                                                             self.copilot.feedback_stats()))


def build_app(copilot: Copilot, *, client: WebClient | None = None, token_verification: bool = True) -> SlackCopilot:
    """The Slack app from settings (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET) and the config's channels."""
    s = copilot.settings
    if s.slack_bot_token is None or s.slack_signing_secret is None:
        raise ConfigError("Slack is not configured: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are required",
                          hint="create the app from manifest.yml, then copy the bot token and signing secret")
    return SlackCopilot(copilot, token=s.slack_bot_token.get_secret_value(),
                        signing_secret=s.slack_signing_secret.get_secret_value(), client=client,
                        token_verification=token_verification)


def asgi_routes(slack: SlackCopilot) -> list[Any]:
    """Starlette routes serving Slack's requests at ``/slack/events`` (for ``copilot slack`` and for
    ``copilot serve``, which mounts them beside the HTTP API)."""
    from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
    from starlette.concurrency import run_in_threadpool
    from starlette.routing import Route

    async def events(req: Any) -> Any:
        # Bolt's sync dispatch waits for the listener's ack (and calls Slack's API): in the thread
        # pool, never on the event loop, where it would stall every other request.
        body = await req.body()
        return to_starlette_response(await run_in_threadpool(slack.app.dispatch, to_bolt_request(req, body)))

    # The raw request goes to Bolt, which verifies the signature on the bytes.
    return [Route("/slack/events", events, methods=["POST"])]


def http_app(slack: SlackCopilot) -> Any:
    """An ASGI app serving only the Slack endpoint (``copilot slack``)."""
    from fastapi import FastAPI

    api = FastAPI(title="support-copilot Slack endpoint", docs_url=None, redoc_url=None, openapi_url=None)
    api.router.routes.extend(asgi_routes(slack))

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return api


def serve(slack: SlackCopilot, *, socket: bool = False, app_token: str | None = None, host: str = "127.0.0.1",
          port: int = 3000) -> None:
    """Run until interrupted: Socket Mode (no public URL; needs the app-level token) or HTTP at
    ``/slack/events`` (behind your HTTPS proxy)."""
    if socket:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        if not app_token:
            raise ConfigError("Socket Mode needs SLACK_APP_TOKEN (an app-level token with connections:write)",
                              hint="Slack app settings > Basic Information > App-Level Tokens")
        SocketModeHandler(slack.app, app_token).start()  # type: ignore[no-untyped-call]
    else:
        import uvicorn

        uvicorn.run(http_app(slack), host=host, port=port, log_level="info")
