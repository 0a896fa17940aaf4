"""Webhook receivers: Zendesk (HMAC signed), Freshdesk (shared secret header), generic (HMAC signed).

A new ticket gets a suggestion posted as an internal note; a solved ticket is ingested (the
learning loop, with PII removed as in every ingest). Receivers verify, de-duplicate by delivery
id, store a job and answer 202 at once; the outbox worker does the work with retries.

Payloads (set them up in the helpdesk's trigger / automation):

- Zendesk:   ``{"event": "ticket_created" | "ticket_solved", "ticket_id": "{{ticket.id}}"}``
- Freshdesk: ``{"event": "ticket_created" | "ticket_solved", "ticket_id": "{{ticket.id}}"}``
  with the header ``X-Copilot-Secret: <FRESHDESK_WEBHOOK_SECRET>``
- generic:   ``{"event": ..., "ticket": {DESIGN.md ticket}, "callback_url": optional}``, signed
  ``X-Copilot-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Copilot-Timestamp>.<body>")>``
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from copilot.errors import AuthError, ConfigError, CopilotError, InputError
from copilot.feedback import FeedbackStore
from copilot.integrations.helpdesk.client import HelpdeskHTTP
from copilot.integrations.helpdesk.helpdesks import FreshdeskClient, Helpdesk, ZendeskClient
from copilot.integrations.helpdesk.outbox import Outbox
from copilot.integrations.http.observability import error_response
from copilot.models import Ticket

__all__ = ["HelpdeskEvent", "WebhookService", "helpdesk_clients", "webhook_router"]

log = logging.getLogger(__name__)
MAX_SKEW_S = 300
NOTE_HEADER = "Suggested reply (support copilot)"


class HelpdeskEvent(BaseModel):
    event: Literal["ticket_created", "ticket_solved"]
    ticket_id: str


class GenericEvent(BaseModel):
    event: Literal["ticket_created", "ticket_solved"]
    ticket: Ticket
    callback_url: str | None = None


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()


def generic_signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def note_text(s: Any) -> str:
    lines = [NOTE_HEADER, f"Confidence {s.confidence:.0%} · {s.language} · {s.drafter}", "", s.reply]
    if s.flags:
        lines += ["", "Flags: " + ", ".join(s.flags)]
    if s.citations:
        lines += ["", "Sources:"] + [f"- {c.title or c.source_id}" + (f" ({c.url})" if c.url else "")
                                     for c in s.citations]
    if s.next_actions:
        lines += ["", "Next actions: " + ", ".join(a.title for a in s.next_actions[:3])]
    return "\n".join(lines)


class WebhookService:
    """The work behind the receivers, with its helpdesk clients and its outbox."""

    def __init__(self, copilot: Any, store: FeedbackStore, helpdesks: dict[str, Helpdesk],
                 *, callback_http: HelpdeskHTTP | None = None) -> None:
        self.copilot, self.store, self.helpdesks = copilot, store, helpdesks
        self.config = copilot.config.helpdesk
        self._callback_http = callback_http
        self.outbox = Outbox(store, {"new_ticket": self._new_ticket, "solved_ticket": self._solved_ticket,
                                     "generic_new": self._generic_new, "generic_solved": self._generic_solved})

    def _brand(self, ticket: Ticket) -> str:
        return str(ticket.brand or self.config.brand or self.copilot.default_brand())

    def _helpdesk(self, name: str) -> Helpdesk:
        hd = self.helpdesks.get(name)
        if hd is None:
            raise ConfigError(f"{name} is not configured", hint="see the README's Helpdesk section")
        return hd

    def _new_ticket(self, job: dict[str, Any]) -> None:
        hd = self._helpdesk(job["helpdesk"])
        ticket = hd.ticket(job["ticket_id"])
        if not ticket.customer_text().strip():
            return
        s = self.copilot.suggest(ticket, brand=self._brand(ticket))
        self.store.save_suggestion(s, ticket, context={"source": hd.name, "ticket_id": job["ticket_id"]})
        if self.config.internal_note_on_new_ticket:
            hd.add_internal_note(job["ticket_id"], note_text(s))

    def _solved_ticket(self, job: dict[str, Any]) -> None:
        ticket = self._helpdesk(job["helpdesk"]).ticket(job["ticket_id"])
        self._learn(ticket)

    def _learn(self, ticket: Ticket) -> None:
        if self.config.learn_from_solved and ticket.is_resolved and ticket.agent_replies():
            self.copilot.ingest_records(tickets=[ticket.model_copy(update={"brand": self._brand(ticket)})])

    def _generic_new(self, job: dict[str, Any]) -> None:
        ticket = Ticket.model_validate(job["ticket"])
        s = self.copilot.suggest(ticket, brand=self._brand(ticket))
        self.store.save_suggestion(s, ticket, context={"source": "generic", "ticket_id": ticket.id})
        if job.get("callback_url"):
            http = self._callback_http or HelpdeskHTTP(job["callback_url"], name="callback")
            http.request("POST", job["callback_url"], json=json.loads(s.model_dump_json()))

    def _generic_solved(self, job: dict[str, Any]) -> None:
        ticket = Ticket.model_validate(job["ticket"])
        self._learn(ticket.model_copy(update={"status": ticket.status or "solved"}))


def _verify_time(ts: str | None) -> None:
    if not ts:
        raise AuthError("missing signature timestamp")
    try:  # Unix seconds (generic) or ISO 8601 (Zendesk)
        t = float(ts) if ts.replace(".", "").isdigit() else datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise AuthError("unreadable signature timestamp") from exc
    if abs(time.time() - t) > MAX_SKEW_S:
        raise AuthError("stale signature timestamp", hint="check the clocks; deliveries older than 5 minutes are refused")


# Refused deliveries: HTTP status and metric label by error class.
_REFUSED: tuple[tuple[type[CopilotError], int, str], ...] = (
    (AuthError, 401, "unauthorized"), (ConfigError, 404, "disabled"), (InputError, 422, "invalid"))


def helpdesk_clients(copilot: Any) -> dict[str, Helpdesk]:
    """The helpdesks configured by settings (credentials) and the config file (addresses)."""
    s, cfg = copilot.settings, copilot.config.helpdesk
    out: dict[str, Helpdesk] = {}
    zd_base = s.zendesk_base_url or (f"https://{cfg.zendesk_subdomain}.zendesk.com" if cfg.zendesk_subdomain else None)
    if zd_base and s.zendesk_email and s.zendesk_api_token:
        out["zendesk"] = ZendeskClient.connect(zd_base, s.zendesk_email, s.zendesk_api_token.get_secret_value(),
                                               brand=cfg.brand)
    fd_base = s.freshdesk_base_url or (f"https://{cfg.freshdesk_domain}.freshdesk.com" if cfg.freshdesk_domain else None)
    if fd_base and s.freshdesk_api_key:
        out["freshdesk"] = FreshdeskClient.connect(fd_base, s.freshdesk_api_key.get_secret_value(), brand=cfg.brand)
    return out


def webhook_router(copilot: Any, store: FeedbackStore | None = None, *, helpdesks: dict[str, Helpdesk] | None = None,
                   start_worker: bool = True) -> APIRouter:
    """The ``/webhooks/*`` routes; helpdesk clients come from settings unless given."""
    s = copilot.settings
    store = store or FeedbackStore.for_data_dir(s.data_dir, s.feedback_url)
    if helpdesks is None:
        helpdesks = helpdesk_clients(copilot)
    service = WebhookService(copilot, store, helpdesks)
    if start_worker:
        service.outbox.start()
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])
    router.service = service  # type: ignore[attr-defined]

    def secret(value: Any, name: str) -> str:
        if value is None:
            raise ConfigError(f"{name} is not set: this webhook is disabled")
        return str(value.get_secret_value())

    async def receive(request: Request, source: str) -> JSONResponse:
        body = await request.body()
        h = request.headers
        try:
            if source == "zendesk":
                ts = h.get("x-zendesk-webhook-signature-timestamp")
                expected = zendesk_signature(secret(s.zendesk_webhook_secret, "ZENDESK_WEBHOOK_SECRET"), ts or "", body)
                if not hmac.compare_digest(expected, h.get("x-zendesk-webhook-signature", "")):
                    raise AuthError("bad Zendesk webhook signature")
                _verify_time(ts)
                delivery = h.get("x-zendesk-webhook-invocation-id")
            elif source == "freshdesk":
                if not hmac.compare_digest(secret(s.freshdesk_webhook_secret, "FRESHDESK_WEBHOOK_SECRET"),
                                           h.get("x-copilot-secret", "")):
                    raise AuthError("bad Freshdesk webhook secret")
                delivery = h.get("x-copilot-delivery")
            else:
                ts = h.get("x-copilot-timestamp")
                expected = generic_signature(secret(s.webhook_secret, "COPILOT_WEBHOOK_SECRET"), ts or "", body)
                if not hmac.compare_digest(expected, h.get("x-copilot-signature", "")):
                    raise AuthError("bad webhook signature")
                _verify_time(ts)
                delivery = h.get("x-copilot-delivery")
            try:
                data = json.loads(body or b"null")
                if source == "generic":
                    g = GenericEvent.model_validate(data)
                    kind = "generic_new" if g.event == "ticket_created" else "generic_solved"
                    payload: dict[str, Any] = {"ticket": g.ticket.model_dump(mode="json"), "callback_url": g.callback_url}
                    key = f"{g.event}:{g.ticket.id}"
                else:
                    e = HelpdeskEvent.model_validate(data)
                    kind = "new_ticket" if e.event == "ticket_created" else "solved_ticket"
                    payload = {"helpdesk": source, "ticket_id": e.ticket_id}
                    key = f"{e.event}:{e.ticket_id}"
            except (ValueError, ValidationError) as exc:
                raise InputError(f"invalid {source} webhook payload: {str(exc).splitlines()[0][:300]}",
                                 hint="see the payload shapes in the README's Helpdesk section") from exc
        except (AuthError, ConfigError, InputError) as exc:
            status, label = next((st, lb) for cls, st, lb in _REFUSED if isinstance(exc, cls))
            copilot_metrics(request, source, label)
            response: JSONResponse = error_response(status, exc.code, exc.message, exc.hint)
            return response
        # A retried delivery (same id) is acknowledged and not queued again.
        if not store.first_time(f"webhook:{source}:{delivery or key + ':' + hashlib.sha256(body).hexdigest()}"):
            copilot_metrics(request, source, "duplicate")
            return JSONResponse({"status": "duplicate"}, status_code=200)
        job_id = service.outbox.put(kind, payload)
        copilot_metrics(request, source, "accepted")
        return JSONResponse({"status": "accepted", "job": job_id}, status_code=202)

    def endpoint(source: str) -> Any:
        async def handle(request: Request) -> JSONResponse:
            return await receive(request, source)

        handle.__name__ = f"{source}_webhook"
        return handle

    for source in ("zendesk", "freshdesk", "generic"):
        router.add_api_route(f"/{source}", endpoint(source), methods=["POST"], status_code=202)
    return router


def copilot_metrics(request: Request, source: str, status: str) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.webhooks.labels(source, status).inc()
