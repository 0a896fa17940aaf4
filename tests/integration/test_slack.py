"""The Slack app end to end: signed requests in, a local mock of the Slack Web API out.

Requests go through Bolt's own dispatch (signature check included); listeners run on Bolt's
worker pool after the ack, exactly as in production; the tests wait for the Web API calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot.config import SlackChannel
from copilot.feedback import FeedbackStore
from copilot.integrations.slack.app import SlackCopilot
from copilot.service import Copilot
from tests.slack_mock import MockSlack, command_body, event_body, form, mock_slack, signed

pytestmark = pytest.mark.integration
SECRET = "test-signing-secret"
QUESTION = "Where is my refund? I returned the chair two weeks ago."


@pytest.fixture
def slack(indexed: Copilot, tmp_path: Path) -> Iterator[tuple[SlackCopilot, MockSlack, FeedbackStore]]:
    from slack_sdk import WebClient

    with mock_slack() as mock:
        store = indexed.parts.feedback
        app = SlackCopilot(indexed, token="xoxb-test", signing_secret=SECRET,
                           client=WebClient(token="xoxb-test", base_url=mock.base_url), channels={
                               "C1": SlackChannel(brand="acme"),
                               "C2": SlackChannel(brand="acme", ticket_bots=["BHELP"], ticket_id_pattern=r"#(\d+)")})
        yield app, mock, store


def dispatch(app: SlackCopilot, body: str, *, content_type: str = "application/json", **kw: Any) -> Any:
    from slack_bolt.request import BoltRequest

    return app.app.dispatch(BoltRequest(body=body, headers=signed(SECRET, body, content_type=content_type, **kw)))


def interact(app: SlackCopilot, payload: dict[str, Any]) -> Any:
    return dispatch(app, form(payload), content_type="application/x-www-form-urlencoded")


def message(text: str = QUESTION, ts: str = "1700000000.000100", channel: str = "C1", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel": channel, "user": "UCUSTOMER", "text": text, "ts": ts, **extra}


def post_suggestion(app: SlackCopilot, mock: MockSlack, event_id: str = "Ev1", **kw: Any) -> dict[str, Any]:
    """A customer message -> the threaded suggestion; returns the final chat.update."""
    assert dispatch(app, event_body(message(**kw), event_id)).status == 200
    update = mock.wait_for("chat.update", where=lambda c: any(b.get("type") == "actions"
                                                              for b in c.args.get("blocks") or []))[-1]
    return update.args


def button(action: str, update: dict[str, Any], user: str = "UAGENT") -> dict[str, Any]:
    sid = next(b for b in update["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    return {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "trigger_id": "trig1",
            "container": {"type": "message", "channel_id": update["channel"], "message_ts": update["ts"]},
            "channel": {"id": update["channel"]}, "actions": [{"action_id": action, "value": sid,
                                                                "block_id": "copilot_actions"}]}


def test_a_customer_message_gets_a_threaded_suggestion_after_a_fast_ack(slack: Any) -> None:
    app, mock, store = slack
    t0 = time.perf_counter()
    resp = dispatch(app, event_body(message()))
    assert resp.status == 200 and time.perf_counter() - t0 < 3  # acked before drafting
    placeholder = mock.wait_for("chat.postMessage")[0].args
    assert placeholder["thread_ts"] == "1700000000.000100" and "Drafting" in placeholder["text"]
    update = mock.wait_for("chat.update")[-1].args
    texts = json.dumps(update["blocks"])
    assert "5 to 7 business days" in texts and "*Sources:* [1]" in texts and "Next actions" in texts
    actions = next(b for b in update["blocks"] if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == ["copilot_send", "copilot_edit", "copilot_regenerate",
                                                  "copilot_shorter", "copilot_friendlier", "copilot_not_helpful"]
    sid = actions[0]["value"]
    shown = store.get_suggestion(sid)
    assert shown.suggestion.brand == "acme" and shown.context["thread_ts"] == "1700000000.000100"
    assert shown.ticket.messages[0].body == QUESTION and shown.channel == "slack"


def test_retries_and_duplicates_are_handled_once(slack: Any) -> None:
    app, mock, _ = slack
    body = event_body(message(), "EvDup")
    assert dispatch(app, body).status == 200
    assert dispatch(app, body, retry=1).status == 200
    assert dispatch(app, body, retry=2).status == 200
    mock.wait_for("chat.update")
    time.sleep(0.5)
    assert len(mock.of("chat.postMessage")) == 1


def test_bad_or_stale_signatures_are_rejected_and_nothing_happens(slack: Any) -> None:
    from slack_bolt.request import BoltRequest

    app, mock, _ = slack
    body = event_body(message(), "EvBad")
    forged = signed("wrong-secret", body)
    assert app.app.dispatch(BoltRequest(body=body, headers=forged)).status == 401
    stale = dispatch(app, body, timestamp=int(time.time()) - 60 * 10)
    assert stale.status == 401
    time.sleep(0.3)
    assert mock.of("chat.postMessage") == []


def test_bots_threads_and_other_channels_are_ignored_but_a_helpdesk_bot_is_a_ticket(slack: Any) -> None:
    app, mock, store = slack
    for i, ev in enumerate([
        message(bot_id="BOTHER", subtype="bot_message"),                  # another bot
        message(thread_ts="1700000000.000001"),                           # a reply in a thread
        message(channel="C9"),                                            # not watched
        message(subtype="message_changed"),                               # an edit
        message(text="   "),                                              # nothing to answer
    ]):
        assert dispatch(app, event_body(ev, f"EvIgnored{i}")).status == 200
    time.sleep(0.5)
    assert mock.of("chat.postMessage") == []
    update = post_suggestion(app, mock, "EvHelp", channel="C2", text=f"New ticket #4521: {QUESTION}",
                             bot_id="BHELP", subtype="bot_message")
    sid = next(b for b in update["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    assert store.get_suggestion(sid).context["ticket_id"] == "4521"


def test_send_posts_in_the_thread_records_before_showing_done_and_only_once(slack: Any) -> None:
    app, mock, store = slack
    update = post_suggestion(app, mock)
    interact(app, button("copilot_send", update))
    sent = mock.wait_for("chat.postMessage", 2)[-1].args
    assert sent["thread_ts"] == "1700000000.000100" and "5 to 7 business days" in sent["text"]
    done = mock.wait_for("chat.update", where=lambda c: "sent it as is" in json.dumps(c.args.get("blocks")))
    assert done
    [rec] = list(store.records())
    assert rec.outcome == "accepted" and rec.agent == "UAGENT" and rec.edit_distance == 0 and rec.brand == "acme"
    assert rec.drafter == "embedded" and rec.prompt_version == "embedded_reply/v2"
    interact(app, button("copilot_send", update))  # a double click
    note = mock.wait_for("chat.postEphemeral")[0].args
    assert "already handled" in note["text"] and len(mock.of("chat.postMessage")) == 2
    assert len(list(store.records())) == 1


def test_edit_opens_a_prefilled_modal_and_submitting_sends_the_edit(slack: Any) -> None:
    app, mock, store = slack
    update = post_suggestion(app, mock)
    interact(app, button("copilot_edit", update))
    view = mock.wait_for("views.open")[0].args["view"]
    original = view["blocks"][-1]["element"]["initial_value"]
    assert "5 to 7 business days" in original
    edited = original.replace("5 to 7 business days", "about a week")
    empty = interact(app, {"type": "view_submission", "user": {"id": "UAGENT"}, "team": {"id": "T1"}, "view": {
        **view, "state": {"values": {"reply": {"text": {"type": "plain_text_input", "value": " "}}}}}})
    assert json.loads(empty.body)["response_action"] == "errors"  # the modal says what is wrong
    resp = interact(app, {"type": "view_submission", "user": {"id": "UAGENT"}, "team": {"id": "T1"}, "view": {
        **view, "state": {"values": {"reply": {"text": {"type": "plain_text_input", "value": edited}}}}}})
    assert resp.status == 200
    sent = mock.wait_for("chat.postMessage", 2)[-1].args
    assert "about a week" in sent["text"] and sent["thread_ts"] == "1700000000.000100"
    [rec] = list(store.records())
    # Stored masked: what the redactor takes for personal data is a placeholder at rest.
    assert rec.outcome == "edited" and rec.final_text and "about a week" in rec.final_text and rec.edit_distance == 5


def test_regenerate_shorter_and_friendlier_replace_the_suggestion(slack: Any) -> None:
    app, mock, store = slack
    update = post_suggestion(app, mock)
    before = len(mock.of("chat.update"))
    interact(app, button("copilot_shorter", update))
    mock.wait_for("chat.update", before + 2)  # "working", then the new suggestion
    shorter = mock.of("chat.update")[-1].args
    new_sid = next(b for b in shorter["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    assert new_sid != button("copilot_send", update)["actions"][0]["value"]
    assert store.get_suggestion(new_sid).context["thread_ts"] == "1700000000.000100"  # still knows where to send
    interact(app, button("copilot_friendlier", shorter))
    mock.wait_for("chat.update", before + 4)
    interact(app, button("copilot_regenerate", mock.of("chat.update")[-1].args))
    mock.wait_for("chat.update", before + 6)
    assert [r.outcome for r in store.records()] == ["ignored"]  # the regenerated one


def test_not_helpful_asks_a_reason_and_records_it(slack: Any) -> None:
    app, mock, store = slack
    update = post_suggestion(app, mock)
    interact(app, button("copilot_not_helpful", update))
    view = mock.wait_for("views.open")[0].args["view"]
    assert [o["value"] for o in view["blocks"][0]["element"]["options"]] == [
        "wrong_facts", "wrong_tone", "wrong_language", "not_relevant", "other"]
    interact(app, {"type": "view_submission", "user": {"id": "UAGENT"}, "team": {"id": "T1"}, "view": {
        **view, "state": {"values": {"reason": {"value": {"selected_option": {"value": "wrong_tone"}}},
                                     "comment": {"text": {"value": "too stiff"}}}}}})
    mock.wait_for("chat.update", where=lambda c: "not helpful" in json.dumps(c.args.get("blocks")))
    [rec] = list(store.records())
    assert (rec.outcome, rec.reason, rec.comment) == ("rejected", "wrong_tone", "too stiff")
    assert len(mock.of("chat.postMessage")) == 1  # nothing was sent to the customer


def test_slash_command_answers_ephemerally_with_the_same_buttons(slack: Any) -> None:
    app, mock, store = slack
    resp = dispatch(app, command_body(QUESTION, mock.response_url("cmd")),
                    content_type="application/x-www-form-urlencoded")
    assert resp.status == 200 and "Drafting" in resp.body
    reply = mock.wait_for("response/cmd")[0].args
    assert reply["response_type"] == "ephemeral" and "5 to 7 business days" in json.dumps(reply["blocks"])
    empty = dispatch(app, command_body("", mock.response_url("cmd2")), content_type="application/x-www-form-urlencoded")
    assert "Usage" in empty.body
    # Send from the ephemeral message: posted to the channel, the ephemeral replaced.
    sid = next(b for b in reply["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    interact(app, {"type": "block_actions", "user": {"id": "UAGENT"}, "team": {"id": "T1"}, "trigger_id": "t",
                   "container": {"type": "message", "channel_id": "C1", "is_ephemeral": True},
                   "channel": {"id": "C1"}, "response_url": mock.response_url("eph"),
                   "actions": [{"action_id": "copilot_send", "value": sid}]})
    sent = mock.wait_for("chat.postMessage")[0].args
    assert sent["channel"] == "C1" and "5 to 7 business days" in sent["text"]
    assert "sent it as is" in json.dumps(mock.wait_for("response/eph")[0].args)
    assert [r.outcome for r in store.records()] == ["accepted"]


def test_message_shortcut_suggests_for_any_message(slack: Any) -> None:
    app, mock, _ = slack
    interact(app, {"type": "message_action", "callback_id": "copilot_suggest_reply", "trigger_id": "t",
                   "user": {"id": "UAGENT"}, "team": {"id": "T1"}, "channel": {"id": "C1"},
                   "message": {"type": "message", "text": QUESTION, "ts": "1700000000.000500"},
                   "response_url": mock.response_url("sc")})
    eph = mock.wait_for("chat.postEphemeral")[0].args
    assert eph["user"] == "UAGENT" and eph["thread_ts"] == "1700000000.000500"
    assert "5 to 7 business days" in json.dumps(eph["blocks"])


def test_app_home_shows_the_agents_and_the_teams_numbers(slack: Any) -> None:
    app, mock, _ = slack
    update = post_suggestion(app, mock)
    interact(app, button("copilot_send", update))
    mock.wait_for("chat.postMessage", 2)
    dispatch(app, event_body({"type": "app_home_opened", "user": "UAGENT", "tab": "home", "channel": "D1"}, "EvHome"))
    view = mock.wait_for("views.publish")[0].args["view"]
    text = json.dumps(view)
    assert "Sent as is: *1*" in text and "Acceptance: *100%*" in text


def test_errors_show_the_agent_a_short_message_instead_of_silence(slack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app, mock, _ = slack

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(app.copilot, "suggest", broken)
    dispatch(app, event_body(message(), "EvErr"))
    update = mock.wait_for("chat.update")[0].args
    assert "No suggestion for this message" in json.dumps(update["blocks"])
    assert "index unavailable" not in json.dumps(update["blocks"])  # details go to the log, not the channel
    # A button on a suggestion that no longer exists: an ephemeral note, not silence.
    interact(app, button("copilot_send", {"channel": "C1", "ts": "1.0", "blocks": [
        {"type": "actions", "elements": [{"value": "missing"}]}]}))
    note = mock.wait_for("chat.postEphemeral")[0].args
    assert note["user"] == "UAGENT" and "unknown suggestion" in note["text"]


def test_slack_api_failure_when_sending_is_reported_and_the_suggestion_stays(slack: Any) -> None:
    app, mock, _ = slack
    update = post_suggestion(app, mock)
    mock.fail["chat.postMessage"] = "channel_not_found"
    interact(app, button("copilot_send", update))
    note = mock.wait_for("chat.postEphemeral")[0].args
    assert "Could not send the reply" in note["text"]


def test_http_mode_serves_slack_at_slack_events(slack: Any) -> None:
    from fastapi.testclient import TestClient

    from copilot.integrations.slack.app import http_app

    app, mock, _ = slack
    client = TestClient(http_app(app))
    body = event_body(message(), "EvHttp")
    assert client.post("/slack/events", content=body, headers=signed(SECRET, body)).status_code == 200
    assert client.post("/slack/events", content=body, headers=signed("nope", body)).status_code == 401
    mock.wait_for("chat.update")
    challenge = json.dumps({"type": "url_verification", "challenge": "abc", "token": "x"})
    r = client.post("/slack/events", content=challenge, headers=signed(SECRET, challenge))
    assert r.status_code == 200 and r.json()["challenge"] == "abc"


def test_manifest_declares_what_the_app_listens_to() -> None:
    import yaml

    from copilot.integrations.slack import blocks as ui

    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text(encoding="utf-8"))
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/copilot"]
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == ["copilot_suggest_reply"]
    assert {"message.channels", "app_home_opened"} <= set(manifest["settings"]["event_subscriptions"]["bot_events"])
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "commands", "channels:history"} <= scopes
    # Slack Connect checks (conversations.info/members, users.info), the allowed group, send as the agent.
    assert {"channels:read", "groups:read", "users:read", "usergroups:read", "chat:write.customize"} <= scopes
    assert manifest["features"]["app_home"]["messages_tab_enabled"]  # the shortcut's DM fallback lands there
    assert manifest["settings"]["interactivity"]["is_enabled"] and ui.ACTIONS


def test_slack_needs_its_tokens(tmp_path: Path) -> None:
    from copilot.cli import main

    assert main(["slack", "--data-dir", str(tmp_path)]) == 2


def test_socket_mode_uses_the_app_token(slack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from copilot.errors import ConfigError
    from copilot.integrations.slack.app import serve

    app, _, _ = slack
    started: list[str] = []
    monkeypatch.setattr(SocketModeHandler, "start", lambda self: started.append(self.app_token))
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        serve(app, socket=True, app_token=None)
    serve(app, socket=True, app_token="xapp-test")
    assert started == ["xapp-test"]


def test_the_http_service_mounts_slack_at_slack_events(slack: Any) -> None:
    from fastapi.testclient import TestClient

    from copilot.integrations.http.app import create_app
    from copilot.integrations.slack import asgi_routes

    app, mock, _ = slack
    client = TestClient(create_app(app.copilot, routes=asgi_routes(app)))
    body = event_body(message(), "EvMounted")
    assert client.post("/slack/events", content=body, headers=signed(SECRET, body)).status_code == 200
    assert client.post("/slack/events", content=body, headers=signed("bad", body)).status_code == 401
    mock.wait_for("chat.update")


def test_send_on_a_helpdesk_ticket_replies_on_the_ticket(indexed: Copilot, tmp_path: Path) -> None:
    from slack_sdk import WebClient

    from copilot.helpdesks import HelpdeskHTTP, HelpdeskRegistry
    from copilot.helpdesks.zendesk import ZendeskClient
    from tests.helpdesk_fake import fake_helpdesk

    with mock_slack() as mock, fake_helpdesk() as fake:
        zd = ZendeskClient(HelpdeskHTTP(fake.base_url, auth=("agent@acme.example/token", "zd-token")))
        cp = Copilot(indexed.settings, config=indexed.config, embedder=indexed.embedder,
                     feedback=FeedbackStore(f"sqlite:///{tmp_path / 'f.db'}"),
                     helpdesks=HelpdeskRegistry({"zendesk": zd}))
        app = SlackCopilot(cp, token="xoxb-test",
                           signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=mock.base_url),
                           channels={"C2": SlackChannel(brand="acme", ticket_bots=["BHELP"], ticket_id_pattern=r"#(\d+)",
                                                        helpdesk="zendesk")})
        update = post_suggestion(app, mock, "EvZd", channel="C2", text=f"New ticket #101: {QUESTION}",
                                 bot_id="BHELP", subtype="bot_message")
        interact(app, button("copilot_send", update))
        mock.wait_for("chat.update", where=lambda c: "sent it as is" in json.dumps(c.args.get("blocks")))
        [(hd, tid, body)] = fake.notes
        assert (hd, tid) == ("zendesk", "101") and body["ticket"]["comment"]["public"] is True
        assert "5 to 7 business days" in body["ticket"]["comment"]["body"]
        assert len(mock.of("chat.postMessage")) == 1  # only the placeholder: nothing sent into the thread


# --- what agents see, Slack Connect, and who may act ----------------------------------------------

def _dressed(app: SlackCopilot, monkeypatch: pytest.MonkeyPatch, **update: Any) -> None:
    """The real suggestion (saved by the application layer, so its buttons work) shown with extra fields."""
    real = app.copilot.suggest

    def suggest(*args: Any, **kwargs: Any) -> Any:
        return real(*args, **kwargs).model_copy(update=update)

    monkeypatch.setattr(app.copilot, "suggest", suggest)


def test_low_confidence_signals_and_guidance_reach_the_thread(slack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot.models import EscalationSignal, Guidance, Sentiment

    app, mock, store = slack
    _dressed(app, monkeypatch, flags=["low_confidence", "escalate"], confidence=0.12,
             sentiment=Sentiment(score=-0.8, label="negative", urgency=0.85),
             escalation=[EscalationSignal(reason="chargeback", evidence="I will dispute this charge", confidence=0.9)],
             guidance=[Guidance(source_id="article:internal", title="Refund desk notes",
                                text="Check the return scan before promising a date.")])
    update = post_suggestion(app, mock)
    text = json.dumps(update["blocks"])
    assert "No confident draft" in text and "Draft (not confident)" in text
    assert "Customer: *negative*" in text and "*urgent* (85%)" in text
    assert "*Escalation: Chargeback or dispute* (90%)" in text and "I will dispute this charge" in text
    assert "For you, not for the customer" in text and "Check the return scan" in text
    assert "*Sources:* [1]" in text and "Next actions" in text  # still visible
    send = next(b for b in update["blocks"] if b["type"] == "actions")["elements"][0]
    assert send["action_id"] == "copilot_send" and "style" not in send
    interact(app, button("copilot_send", update))  # sending anyway still works, and is recorded
    mock.wait_for("chat.update", where=lambda c: "sent it as is" in json.dumps(c.args.get("blocks")))
    assert [r.outcome for r in store.records()] == ["accepted"]


def test_shortcut_where_the_bot_is_not_a_member_answers_in_a_dm(slack: Any) -> None:
    app, mock, _ = slack
    mock.fail["chat.postEphemeral"] = "not_in_channel"
    interact(app, {"type": "message_action", "callback_id": "copilot_suggest_reply", "trigger_id": "t",
                   "user": {"id": "UAGENT"}, "team": {"id": "T1"}, "channel": {"id": "C7"},
                   "message": {"type": "message", "text": QUESTION, "ts": "1700000000.000700"},
                   "response_url": mock.response_url("sc")})
    dm = mock.wait_for("chat.postMessage")[0].args
    assert dm["channel"] == "UAGENT" and "/invite @copilot" in dm["text"] and "<#C7>" in dm["text"]
    assert "5 to 7 business days" in json.dumps(dm["blocks"])
    assert any(b["type"] == "actions" for b in dm["blocks"])


def test_send_as_the_agent_shows_their_name_and_picture(indexed: Copilot) -> None:
    from slack_sdk import WebClient

    from copilot.config import SlackConfig

    with mock_slack() as mock:
        app = SlackCopilot(indexed, token="xoxb-test", signing_secret=SECRET,
                           client=WebClient(token="xoxb-test", base_url=mock.base_url),
                           settings=SlackConfig(channels={"C1": SlackChannel(brand="acme")}, send_as_agent=True))
        update = post_suggestion(app, mock, "EvAsAgent")
        interact(app, button("copilot_send", update))
        sent = mock.wait_for("chat.postMessage", 2)[-1].args
        assert sent["username"] == "name-UAGENT" and sent["icon_url"] == "https://avatars.example/UAGENT.png"
        assert "5 to 7 business days" in sent["text"]


def _public_drafts(mock: MockSlack, channel: str) -> list[Any]:
    return [c for c in mock.of("chat.postMessage") + mock.of("chat.update") if c.args.get("channel") == channel]


@pytest.mark.parametrize("how", ["ext_shared", "guest_author", "info_fails"])
def test_in_a_slack_connect_channel_drafts_go_only_to_home_agents(slack: Any, how: str) -> None:
    app, mock, store = slack
    extra: dict[str, Any] = {}
    if how == "ext_shared":
        mock.channels["C1"] = {"is_ext_shared": True}
    elif how == "guest_author":
        extra["user_team"] = "TCUSTOMER"    # an author from another organisation makes it shared
    else:
        mock.fail["conversations.info"] = "missing_scope"  # cannot tell: private, never public
    mock.members["C1"] = ["UAGENT", "UGUEST", "UBOT", "UGONE"]
    mock.users["UGUEST"] = {"id": "UGUEST", "team_id": "TCUSTOMER"}
    mock.users["UGONE"] = {"id": "UGONE", "team_id": "T1", "deleted": True}
    assert dispatch(app, event_body(message(**extra), f"EvShared-{how}")).status == 200
    [eph] = mock.wait_for("chat.postEphemeral")
    time.sleep(0.3)
    assert eph.args["user"] == "UAGENT" and eph.args["thread_ts"] == "1700000000.000100"
    assert "5 to 7 business days" in json.dumps(eph.args["blocks"])
    assert _public_drafts(mock, "C1") == []  # no draft, source or button in the shared channel
    # Send on the ephemeral draft answers the customer in their thread (that part is meant to be public).
    sid = next(b for b in eph.args["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    interact(app, {"type": "block_actions", "user": {"id": "UAGENT", "team_id": "T1"}, "team": {"id": "T1"},
                   "container": {"type": "message", "channel_id": "C1", "is_ephemeral": True},
                   "channel": {"id": "C1"}, "response_url": mock.response_url("eph"),
                   "actions": [{"action_id": "copilot_send", "value": sid, "block_id": "copilot_actions"}]})
    sent = mock.wait_for("chat.postMessage")[0].args
    assert sent["channel"] == "C1" and sent["thread_ts"] == "1700000000.000100" and "blocks" not in sent
    assert "sent it as is" in json.dumps(mock.wait_for("response/eph")[0].args)
    assert [r.outcome for r in store.records()] == ["accepted"]


def test_a_slack_connect_channel_with_an_internal_channel_drafts_there(slack: Any) -> None:
    app, mock, _ = slack
    app.channels["C3"] = SlackChannel(brand="acme", internal_channel="CINTERNAL")
    mock.channels["C3"] = {"is_ext_shared": True}
    assert dispatch(app, event_body(message(channel="C3"), "EvInternal")).status == 200
    update = mock.wait_for("chat.update", where=lambda c: any(
        b.get("type") == "actions" for b in c.args.get("blocks") or []))[-1].args
    head, placeholder = mock.of("chat.postMessage")[:2]
    assert head.args["channel"] == "CINTERNAL" and "<#C3>" in json.dumps(head.args["blocks"])
    assert QUESTION in json.dumps(head.args["blocks"])
    assert placeholder.args["channel"] == "CINTERNAL" and placeholder.args["thread_ts"] == head.result["ts"]
    assert update["channel"] == "CINTERNAL" and "5 to 7 business days" in json.dumps(update["blocks"])
    assert _public_drafts(mock, "C3") == [] and mock.of("chat.postEphemeral") == []
    interact(app, button("copilot_send", update))
    sent = mock.wait_for("chat.postMessage", 3)[-1].args
    assert sent["channel"] == "C3" and sent["thread_ts"] == "1700000000.000100"  # the reply reaches the customer


def test_outsiders_are_refused_and_logged(slack: Any, caplog: pytest.LogCaptureFixture) -> None:
    app, mock, store = slack
    update = post_suggestion(app, mock)
    guest = button("copilot_send", update, user="UGUEST")
    guest["user"]["team_id"] = "TCUSTOMER"
    with caplog.at_level("WARNING", logger="copilot.integrations.slack.app"):
        assert interact(app, guest).status == 200
        interact(app, {"type": "message_action", "callback_id": "copilot_suggest_reply", "trigger_id": "t",
                       "user": {"id": "UGUEST", "team_id": "TCUSTOMER"}, "team": {"id": "TCUSTOMER"},
                       "channel": {"id": "C1"}, "message": {"type": "message", "text": QUESTION, "ts": "1.2"},
                       "response_url": mock.response_url("guest")})
        dispatch(app, command_body(QUESTION, mock.response_url("cmd"), user="UGUEST").replace(
            "team_id=T1", "team_id=TCUSTOMER"), content_type="application/x-www-form-urlencoded")
        notes = mock.wait_for("chat.postEphemeral", 3)
    assert {n.args["user"] for n in notes} == {"UGUEST"}
    assert all("only the support team" in n.args["text"] for n in notes)
    assert [r for r in caplog.records if "refused Slack" in r.getMessage()] and len(caplog.records) >= 3
    time.sleep(0.3)
    assert list(store.records()) == [] and len(mock.of("chat.postMessage")) == 1  # only the placeholder
    assert not [c for c in mock.calls if c.method.startswith("response/")]


def test_with_an_allowed_group_only_its_members_may_act(indexed: Copilot) -> None:
    from slack_sdk import WebClient

    from copilot.config import SlackConfig

    with mock_slack() as mock:
        mock.groups["SSUPPORT"] = ["UAGENT"]
        app = SlackCopilot(indexed, token="xoxb-test", signing_secret=SECRET,
                           client=WebClient(token="xoxb-test", base_url=mock.base_url),
                           settings=SlackConfig(channels={"C1": SlackChannel(brand="acme")},
                                                allowed_usergroup="SSUPPORT"))
        update = post_suggestion(app, mock, "EvGroup")
        interact(app, button("copilot_send", update, user="USALES"))   # same workspace, not in the group
        note = mock.wait_for("chat.postEphemeral")[0].args
        assert note["user"] == "USALES" and "only the support team" in note["text"]
        interact(app, button("copilot_send", update, user="UAGENT"))
        mock.wait_for("chat.update", where=lambda c: "sent it as is" in json.dumps(c.args.get("blocks")))
