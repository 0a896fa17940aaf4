"""A suggestion's life after it is drafted, with one set of rules for every channel.

- What was shown is saved (the ticket it answers and where it was shown) so an action taken later,
  in another process, still finds both.
- It is looked up only within the caller's brands: another brand's suggestion does not exist.
- It takes **one** outcome: accepted (sent as drafted), edited (sent after a change, with its
  word-level edit distance), rejected (with a reason) or ignored. A second is refused
  (``ConflictError``) and the first stays as it was.
- Sending records the outcome first (a double click cannot send twice), then delivers: through
  the helpdesk registry when the suggestion was shown on a helpdesk ticket, else by the caller's
  own means (a Slack thread). A failed delivery undoes the outcome, so the agent can send again.
- What is stored holds placeholders for personal data (``copilot.vault``); the originals come back
  only while an encrypted copy is kept, and a reply still holding placeholders is never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from typing import Any

from copilot.errors import ConflictError, InputError, NotFoundError
from copilot.feedback import FeedbackStore, edit_distance
from copilot.helpdesks import HelpdeskRegistry
from copilot.models import (
    FEEDBACK_REASONS,
    FINAL_OUTCOMES,
    FeedbackRecord,
    FeedbackStats,
    Outcome,
    SendResult,
    ShownSuggestion,
    Suggestion,
    Ticket,
)
from copilot.telemetry import AppMetrics
from copilot.vault import Vault, require_resolved, same_reply, unresolved_placeholders

__all__ = ["Lifecycle"]

log = logging.getLogger(__name__)


class Lifecycle:
    def __init__(self, store: FeedbackStore, helpdesks: HelpdeskRegistry, metrics: AppMetrics,
                 vault: Vault | None = None) -> None:
        self.store, self.helpdesks, self.metrics = store, helpdesks, metrics
        self.vault = vault or Vault(store)

    def save(self, suggestion: Suggestion, ticket: Ticket, *, channel: str, context: dict[str, Any] | None) -> None:
        masked, masked_ticket = self.vault.mask_shown(suggestion, ticket)
        self.store.save_suggestion(masked, masked_ticket, channel=channel, context=context)

    def get(self, suggestion_id: str, *, brands: Collection[str] | None = None) -> ShownSuggestion:
        shown = self.vault.open_shown(self.store.get_suggestion(suggestion_id))
        brand = shown.suggestion.brand
        if brands is not None and "*" not in brands and brand and brand not in brands:
            # Another brand's suggestion does not exist for this caller.
            raise NotFoundError(f"unknown suggestion {suggestion_id!r}",
                                hint="it was never shown, or the feedback database was reset")
        return shown

    def record(self, suggestion_id: str, outcome: Outcome, *, agent: str | None = None, channel: str | None = None,
               final_text: str | None = None, reason: str | None = None, comment: str | None = None,
               brands: Collection[str] | None = None) -> FeedbackRecord:
        return self._record(self.get(suggestion_id, brands=brands), outcome, agent=agent, channel=channel,
                            final_text=final_text, reason=reason, comment=comment)

    def _record(self, shown: ShownSuggestion, outcome: Outcome, *, agent: str | None, channel: str | None,
                final_text: str | None, reason: str | None = None, comment: str | None = None) -> FeedbackRecord:
        s = shown.suggestion
        if outcome not in FINAL_OUTCOMES:
            raise InputError(f"unknown outcome {outcome!r}", hint=f"one of: {', '.join(FINAL_OUTCOMES)}")
        if reason is not None and reason not in FEEDBACK_REASONS:
            raise InputError(f"unknown reason {reason!r}", hint=f"one of: {', '.join(FEEDBACK_REASONS)}")
        distance = ratio = None
        if outcome in {"accepted", "edited"}:
            if outcome == "edited" and final_text is None:
                raise InputError("an edited reply needs the text that was sent",
                                 hint='give "final_text": the reply as the agent sent it')
            final_text = s.reply if final_text is None else final_text
            if not final_text.strip():
                raise InputError("the reply to send is empty", hint="send the draft, or the text the agent wrote")
            # What was sent decides: the draft's own text is "accepted", anything else "edited". A draft
            # whose customer data was not kept is compared with its placeholders standing for that data.
            same = same_reply(s.reply, final_text)
            outcome = "accepted" if same else "edited"
            sent = self.vault.mask_sent(s.id, final_text) if unresolved_placeholders(s.reply) else final_text
            distance = 0 if same else edit_distance(s.reply, sent)
            ratio = round(distance / max(1, len(s.reply.split())), 4)
        rec = FeedbackRecord(
            suggestion_id=s.id, outcome=outcome, agent=agent, brand=s.brand, channel=channel or shown.channel,
            final_text=final_text, edit_distance=distance, edit_ratio=ratio, reason=reason, comment=comment,
            prompt_version=s.prompt_version, drafter=s.drafter,
            top_action=s.next_actions[0].id if s.next_actions else None)
        try:
            stored = self.store.record(self.vault.mask_feedback(rec))
        except ConflictError:
            self.metrics.conflicts.labels(s.brand or "").inc()
            raise
        self.metrics.feedback.labels(s.brand or "", stored.outcome).inc()
        # The caller gets what the agent wrote; only the stored copy is masked.
        return stored.model_copy(update={"final_text": final_text, "comment": comment})

    def send(self, suggestion_id: str, *, agent: str | None = None, channel: str | None = None,
             final_text: str | None = None, brands: Collection[str] | None = None,
             deliver: Callable[[str], None] | None = None) -> SendResult:
        """Record a sent reply, then deliver it: to the helpdesk ticket it answers when it was shown on
        one, else through ``deliver`` (the caller's channel). None delivers nothing (the caller did)."""
        shown = self.get(suggestion_id, brands=brands)
        require_resolved(shown.suggestion.reply if final_text is None else final_text)
        rec = self._record(shown, "accepted", agent=agent, channel=channel, final_text=final_text)
        text = rec.final_text or ""
        helpdesk, ticket_id = shown.context.get("helpdesk"), shown.context.get("ticket_id")
        try:
            if helpdesk and ticket_id:
                self.helpdesks.require(str(helpdesk)).add_public_reply(str(ticket_id), text)
                return SendResult(record=rec, delivered_to=f"helpdesk:{helpdesk}")
            if deliver is not None:
                deliver(text)
                return SendResult(record=rec, delivered_to=channel or shown.channel)
        except Exception:
            log.warning("delivering suggestion %s failed; its outcome is undone", suggestion_id)
            self.store.release(suggestion_id)  # not sent: the agent may try again
            raise
        return SendResult(record=rec)

    def claim(self, key: str) -> bool:
        """Record a delivery id (a webhook, a Slack event); False when it was seen before."""
        return self.store.first_time(key)

    def stats(self, *, agent: str | None = None, brand: str | None = None) -> FeedbackStats:
        return self.store.stats(agent=agent, brand=brand)

    def records(self, *, brand: str | None = None, agent: str | None = None) -> Iterator[FeedbackRecord]:
        return self.store.records(brand=brand, agent=agent)
