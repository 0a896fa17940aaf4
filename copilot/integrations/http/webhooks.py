"""Webhook receivers: Zendesk (HMAC signed), Freshdesk (shared secret header), generic (HMAC signed).

Receivers verify, parse and hand the event to the application layer (``Copilot.accept_event``),
which claims the delivery id and stores a job; the answer is 202 at once and a worker does the
work with retries. Payloads (set them up in the helpdesk's trigger / automation):

- Zendesk:   ``{"event": "ticket_created" | "ticket_solved", "ticket_id": "{{ticket.id}}"}``
- Freshdesk: ``{"event": "ticket_created" | "ticket_solved", "ticket_id": "{{ticket.id}}",
  "updated_at": "{{ticket.updated_at}}"}`` with the header ``X-Copilot-Secret: <FRESHDESK_WEBHOOK_SECRET>``
- generic:   ``{"event": ..., "ticket": {DESIGN.md ticket}, "callback_url": optional}``, signed
  ``X-Copilot-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Copilot-Timestamp>.<body>")>``

Replays: a signed delivery (Zendesk, generic) is known by a digest of what was signed (timestamp and
body) as well as by its delivery id, which the signature does not cover: a captured delivery sent
again with a new id is a duplicate, and a stale one is refused. Freshdesk signs nothing and sends
no delivery id: its deliveries are known by event, ticket and the ticket's update time (the
``updated_at`` placeholder above), so the same ticket solved twice is two events; without it, by
event and ticket within ten minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from copilot.errors import AuthError, ConfigError, CopilotError, InputError, TooLargeError
from copilot.integrations.http.observability import error_response
from copilot.models import Ticket

if TYPE_CHECKING:
    from copilot.service import Copilot

__all__ = ["HelpdeskEvent", "generic_signature", "webhook_router", "zendesk_signature"]

MAX_SKEW_S = 300
FRESHDESK_WINDOW_S = 600


class HelpdeskEvent(BaseModel):
    event: Literal["ticket_created", "ticket_solved"]
    ticket_id: str
    updated_at: str | None = None


class GenericEvent(BaseModel):
    event: Literal["ticket_created", "ticket_solved"]
    ticket: Ticket
    callback_url: str | None = None


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()


def generic_signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


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
    (AuthError, 401, "unauthorized"), (ConfigError, 404, "disabled"), (TooLargeError, 413, "too_large"),
    (InputError, 422, "invalid"))


def webhook_router(copilot: Copilot) -> APIRouter:
    """The ``/webhooks/*`` routes (the work is queued with the copilot; its worker runs it)."""
    s = copilot.settings
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])

    def secret(value: Any, name: str) -> str:
        if value is None:
            raise ConfigError(f"{name} is not set: this webhook is disabled")
        return str(value.get_secret_value())

    async def receive(request: Request, source: str) -> JSONResponse:
        body = await request.body()
        h = request.headers
        try:
            keys: list[str] = []
            if source == "zendesk":
                ts = h.get("x-zendesk-webhook-signature-timestamp")
                expected = zendesk_signature(secret(s.zendesk_webhook_secret, "ZENDESK_WEBHOOK_SECRET"), ts or "", body)
                keys.append(_signed_key(expected, h.get("x-zendesk-webhook-signature", ""), ts, body,
                                        "bad Zendesk webhook signature"))
                delivery = h.get("x-zendesk-webhook-invocation-id")
            elif source == "freshdesk":
                if not hmac.compare_digest(secret(s.freshdesk_webhook_secret, "FRESHDESK_WEBHOOK_SECRET"),
                                           h.get("x-copilot-secret", "")):
                    raise AuthError("bad Freshdesk webhook secret")
                delivery = h.get("x-copilot-delivery")
            else:
                ts = h.get("x-copilot-timestamp")
                expected = generic_signature(secret(s.webhook_secret, "COPILOT_WEBHOOK_SECRET"), ts or "", body)
                keys.append(_signed_key(expected, h.get("x-copilot-signature", ""), ts, body, "bad webhook signature"))
                delivery = h.get("x-copilot-delivery")
            try:
                data = json.loads(body or b"null")
                if source == "generic":
                    g = GenericEvent.model_validate(data)
                    _acceptable(copilot, g)
                else:
                    e = HelpdeskEvent.model_validate(data)
                    if source == "freshdesk":
                        when = e.updated_at or f"window:{int(time.time() // FRESHDESK_WINDOW_S)}"
                        keys.append(f"event:{e.event}:{e.ticket_id}:{when}")
            except (ValueError, ValidationError, RecursionError) as exc:
                raise InputError(f"invalid {source} webhook payload: {str(exc).splitlines()[0][:300]}",
                                 hint="see the payload shapes in the README's Helpdesk section") from exc
        except (AuthError, ConfigError, InputError) as exc:
            status, label = next((st, lb) for cls, st, lb in _REFUSED if isinstance(exc, cls))
            copilot_metrics(request, source, label)
            response: JSONResponse = error_response(status, exc.code, exc.message, exc.hint)
            return response
        if delivery:
            keys.append(f"delivery:{delivery}")  # a retry that keeps its id, even re-signed
        # The database write runs off the event loop: a slow database never stalls other requests.
        if source == "generic":
            accepted = await run_in_threadpool(copilot.accept_event, source, g.event, delivery=keys,
                                               ticket=g.ticket, callback_url=g.callback_url)
        else:
            accepted = await run_in_threadpool(copilot.accept_event, source, e.event, delivery=keys,
                                               ticket_id=e.ticket_id)
        copilot_metrics(request, source, accepted.status)
        if accepted.status == "duplicate":
            return JSONResponse({"status": "duplicate"}, status_code=200)
        return JSONResponse({"status": "accepted", "job": accepted.job}, status_code=202)

    def endpoint(source: str) -> Any:
        async def handle(request: Request) -> JSONResponse:
            return await receive(request, source)

        handle.__name__ = f"{source}_webhook"
        return handle

    for source in ("zendesk", "freshdesk", "generic"):
        router.add_api_route(f"/{source}", endpoint(source), methods=["POST"], status_code=202)
    return router


def _signed_key(expected: str, given: str, ts: str | None, body: bytes, refusal: str) -> str:
    """Check a signed delivery (signature, then freshness) and return its replay key: a digest of
    what was signed, which a replay with a fresh delivery id cannot change."""
    if not hmac.compare_digest(expected, given):
        raise AuthError(refusal)
    _verify_time(ts)
    return "signed:" + hashlib.sha256((ts or "").encode() + b"." + body).hexdigest()


def _acceptable(copilot: Copilot, g: GenericEvent) -> None:
    """A generic ticket is refused at the door (not as a failing job): too large, or solved without an id."""
    if g.event == "ticket_solved" and not g.ticket.id.strip():
        raise InputError("a solved ticket needs an id to be learned from", where="ticket.id",
                         hint='add "id" to the ticket')
    copilot.accept_ticket(g.ticket, where="ticket", answerable=g.event == "ticket_created")


def copilot_metrics(request: Request, source: str, status: str) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.webhooks.labels(source, status).inc()
