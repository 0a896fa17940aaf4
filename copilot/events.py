"""Helpdesk events, handled by the application layer as durable jobs.

A receiver (the HTTP webhooks) verifies and parses a delivery, then calls ``Copilot.accept_event``:
the delivery's keys and its job are stored in one transaction (a retried delivery is a duplicate,
and no delivery is ever recorded without its job), and one worker runs it with retries. A new
ticket gets a suggestion as an internal note (or, from the generic webhook, POSTed to its
``callback_url``); a solved ticket is ingested with personal data removed, so the copilot learns
from it.

A delivery is known by several keys (a helpdesk's delivery id, a digest of what was signed, a
ticket's update time): it is a duplicate when any of them was seen, so a replay with a fresh
delivery id is still recognised. Keys are stored as digests: a ticket id can be an e-mail address.
A queued ticket is stored masked (``copilot.vault``), like everything else at rest.

A job can run more than once (its worker died mid-job), so what it sends is made idempotent: an
internal note carries the job's key as a marker, and a run that is not the first looks for it
before posting; a callback carries the key as ``Idempotency-Key`` for the receiver to de-duplicate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from copilot.config import HelpdeskConfig
from copilot.helpdesks import HelpdeskHTTP, HelpdeskRegistry, NoteLookup
from copilot.jobs import JobRun, LeaseLost, Outbox
from copilot.lifecycle import Lifecycle
from copilot.models import Suggestion, Ticket

__all__ = ["EventKind", "HelpdeskEvents", "note_marker", "note_text"]

EventKind = Literal["ticket_created", "ticket_solved"]
NOTE_HEADER = "Suggested reply (support copilot)"


class Accepted(BaseModel):
    status: Literal["accepted", "duplicate"]
    job: int | None = None


def note_marker(key: str) -> str:
    """The last line of a note: which job posted it, so a second run of the job finds it."""
    return f"[copilot ref {key}]"


def note_text(s: Suggestion) -> str:
    """A suggestion as an internal note on the helpdesk ticket."""
    lines = [NOTE_HEADER, f"Confidence {s.confidence:.0%} · {s.language} · {s.drafter}", "", s.reply]
    if s.flags:
        lines += ["", "Flags: " + ", ".join(s.flags)]
    if s.citations:
        lines += ["", "Sources:"] + [f"- {c.title or c.source_id}" + (f" ({c.url})" if c.url else "")
                                     for c in s.citations]
    if s.next_actions:
        lines += ["", "Next actions: " + ", ".join(a.title for a in s.next_actions[:3])]
    return "\n".join(lines)


class Suggest(Protocol):
    def __call__(self, ticket: Ticket, *, brand: str | None = ..., channel: str | None = ...,
                 context: dict[str, Any] | None = ...) -> Suggestion: ...


class HelpdeskEvents:
    """The jobs behind helpdesk events, registered on the outbox: they draft with ``suggest`` and
    learn with ``learn`` (the facade's own operations)."""

    def __init__(self, *, outbox: Outbox, lifecycle: Lifecycle, helpdesks: HelpdeskRegistry, config: HelpdeskConfig,
                 default_brand: str, suggest: Suggest, learn: Callable[[list[Ticket]], object],
                 callback_http: HelpdeskHTTP | None = None) -> None:
        self.outbox, self.lifecycle, self.helpdesks, self.config = outbox, lifecycle, helpdesks, config
        self.default_brand, self.suggest, self.learn = default_brand, suggest, learn
        self._callback_http = callback_http
        outbox.handlers.update({"new_ticket": self._new_ticket, "solved_ticket": self._solved_ticket,
                                "generic_new": self._generic_new, "generic_solved": self._generic_solved})

    def accept(self, source: str, event: EventKind, *, delivery: str | Sequence[str], ticket_id: str | None = None,
               ticket: Ticket | None = None, callback_url: str | None = None) -> Accepted:
        """Store the job for a verified delivery, once: a duplicate when any of its keys was seen."""
        keys = [delivery] if isinstance(delivery, str) else list(delivery)
        digests = [f"webhook:{source}:{hashlib.sha256(k.encode()).hexdigest()}" for k in keys]
        if ticket is not None:
            kind = "generic_new" if event == "ticket_created" else "generic_solved"
            masked, sealed = self.lifecycle.vault.mask_ticket(ticket)
            payload: dict[str, Any] = {"ticket": masked.model_dump(mode="json"), "sealed": sealed,
                                       "callback_url": callback_url}
        else:
            kind = "new_ticket" if event == "ticket_created" else "solved_ticket"
            payload = {"helpdesk": source, "ticket_id": ticket_id}
        job = self.outbox.put(kind, payload, delivery=digests)
        return Accepted(status="duplicate") if job is None else Accepted(status="accepted", job=job)

    def _brand(self, ticket: Ticket) -> str:
        return str(ticket.brand or self.config.brand or self.default_brand)

    def _new_ticket(self, run: JobRun) -> dict[str, Any] | None:
        job = run.payload
        helpdesk = self.helpdesks.require(job["helpdesk"])
        ticket_id, marker = str(job["ticket_id"]), note_marker(run.key)

        def posted() -> str | None:
            # Only a run after the first can find its note: an earlier run posted it and died (or
            # stalled past its lease) before recording it.
            return helpdesk.find_note(ticket_id, marker) if run.attempt > 1 and isinstance(helpdesk, NoteLookup) \
                else None

        if (found := posted()) is not None:
            return {"note_id": found, "found": True}
        ticket = helpdesk.ticket(ticket_id)
        if not ticket.customer_text().strip():
            return None
        s = self.suggest(ticket, brand=self._brand(ticket), channel=helpdesk.name,
                         context={"helpdesk": helpdesk.name, "ticket_id": ticket_id})
        if not self.config.internal_note_on_new_ticket:
            return {"suggestion_id": s.id}
        _still_owned(run)
        if (found := posted()) is not None:  # drafting takes seconds: look again right before posting
            return {"note_id": found, "found": True}
        return {"suggestion_id": s.id, "note_id": helpdesk.add_internal_note(ticket_id, f"{note_text(s)}\n\n{marker}")}

    def _solved_ticket(self, run: JobRun) -> None:
        job = run.payload
        self._learn(self.helpdesks.require(job["helpdesk"]).ticket(job["ticket_id"]))

    def _learn(self, ticket: Ticket) -> None:
        if self.config.learn_from_solved and ticket.is_resolved and ticket.agent_replies():
            self.learn([ticket.model_copy(update={"brand": self._brand(ticket)})])

    def _queued_ticket(self, job: dict[str, Any]) -> Ticket:
        return self.lifecycle.vault.open_ticket(Ticket.model_validate(job["ticket"]), job.get("sealed"))

    def _generic_new(self, run: JobRun) -> dict[str, Any]:
        job = run.payload
        ticket = self._queued_ticket(job)
        s = self.suggest(ticket, brand=self._brand(ticket), channel="generic",
                         context={"source": "generic", "ticket_id": ticket.id})
        if job.get("callback_url"):
            http = self._callback_http or HelpdeskHTTP(job["callback_url"], name="callback")
            _still_owned(run)
            # The same key on every attempt: the receiver keeps the first and drops repeats.
            http.request("POST", job["callback_url"], json=json.loads(s.model_dump_json()),
                         headers={"Idempotency-Key": run.key})
        self.lifecycle.vault.forget(job.get("sealed"))
        return {"suggestion_id": s.id}

    def _generic_solved(self, run: JobRun) -> None:
        ticket = self._queued_ticket(run.payload)
        self._learn(ticket.model_copy(update={"status": ticket.status or "solved"}))
        self.lifecycle.vault.forget(run.payload.get("sealed"))


def _still_owned(run: JobRun) -> None:
    if not run.owned():
        raise LeaseLost(f"job {run.id}")
