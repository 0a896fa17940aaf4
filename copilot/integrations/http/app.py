"""The HTTP service (FastAPI): suggestions, feedback, rewrites, search, ingestion, health, metrics.

Every ``/v1`` call needs a bearer token; a token covers some brands and can never read or cite
another's. Errors are JSON ``{"error": {"code", "message", "hint", "request_id"}}`` with a 4xx
for anything the caller can fix. Each request gets an id (``X-Request-ID``, kept from the caller
when given) that is in the response, the error body and every log line.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from copilot import __version__
from copilot.availability import as_unavailable, dependency_errors
from copilot.config import ApiToken
from copilot.errors import (
    AuthError,
    ConflictError,
    CopilotError,
    ForbiddenError,
    InputError,
    NotFoundError,
    TimeBudgetError,
    TooLargeError,
    UnavailableError,
)
from copilot.integrations.http.auth import Authenticator
from copilot.integrations.http.observability import Metrics, elapsed_ms, error_response, new_request_id, request_id
from copilot.models import FeedbackReason, FeedbackRecord, Outcome, Suggestion, Ticket

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from copilot.service import Copilot

__all__ = ["create_app"]

log = logging.getLogger("copilot.http")
SIDEBAR_DIR = Path(__file__).resolve().parent.parent / "sidebar" / "static"
# The application layer stops a request at its budget with a precise message; this is the backstop.
BUDGET_GRACE_S = 2.0
_STATUS = {AuthError: 401, ForbiddenError: 403, NotFoundError: 404, ConflictError: 409, TooLargeError: 413,
           InputError: 422, UnavailableError: 503, TimeBudgetError: 504}
# /readyz answers within this even when a dependency hangs (a locked database): it says "timeout".
READY_TIMEOUT_S = 2.0


class FeedbackIn(BaseModel):
    outcome: Outcome
    agent: str | None = Field(default=None, max_length=128)
    final_text: str | None = Field(default=None, max_length=20_000)
    reason: FeedbackReason | None = None
    comment: str | None = Field(default=None, max_length=2_000)


class RewriteIn(BaseModel):
    instruction: str = Field(min_length=1, max_length=2_000)
    language: str | None = Field(default=None, max_length=16)


class TicketsIn(BaseModel):
    tickets: list[Ticket] = Field(min_length=1, max_length=1_000)
    brand: str | None = None


class IngestOut(BaseModel):
    added: int
    updated: int
    unchanged: int
    skipped: list[str]
    # "ticket:<id>: why": suspicious tickets, not indexed.
    quarantined: list[str] = Field(default_factory=list)


class HitOut(BaseModel):
    source_id: str
    kind: str
    title: str
    url: str | None
    score: float
    text: str


class _BodyLimit:
    """Refuse bodies over the limit before the application sees them (413), chunked ones included:
    the body is read here, up to the limit, and handed on whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(self.limit, headers)(scope, receive, send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                break  # the client went away; the application sees an empty body
            seen += len(msg.get("body", b""))
            if seen > self.limit:
                await _too_large(self.limit, headers)(scope, receive, send)
                return
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class _TimeBudget:
    """A ``/v1`` request still unanswered after its budget gets a 504 at once, in the documented shape.
    The application layer stops the work itself at its next stage (``copilot.limits``); this is for a
    stage that overruns, so no caller waits past the budget and no worker is held by a waiting caller."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        started = abandoned = False

        async def guarded(msg: Message) -> None:
            nonlocal started
            if not abandoned:
                started = True
                await send(msg)

        task = asyncio.ensure_future(self.app(scope, receive, guarded))
        done, _ = await asyncio.wait({task}, timeout=self.seconds)
        if task in done or started:
            await task
            return
        abandoned = True
        task.add_done_callback(_log_late_failure)
        log.warning("request over its %.0fs time budget: answered 504, its work stops at its next stage", self.seconds)
        await _error(504, "timeout", f"the request ran past its time budget of {self.seconds:g}s",
                     "retry; if it keeps happening, send a shorter ticket or raise COPILOT_REQUEST_BUDGET_S")(
            scope, receive, send)


def _log_late_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("a request answered 504 failed later: %s", type(task.exception()).__name__)


def _too_large(limit: int, headers: dict[bytes, bytes]) -> JSONResponse:
    # Refused before the request-id middleware runs: the caller's id is kept here too.
    rid = new_request_id(headers.get(b"x-request-id", b"").decode("latin-1") or None)
    return JSONResponse({"error": {"code": "payload_too_large", "message": f"the request body is over {limit} bytes",
                                   "hint": "send fewer or shorter tickets per request", "where": "body",
                                   "request_id": rid}}, status_code=413, headers={"X-Request-ID": rid})


def _error(status: int, code: str, message: str, hint: str | None = None, where: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    response: JSONResponse = error_response(status, code, message, hint, where, headers=headers)
    return response


def _unavailable(exc: UnavailableError) -> JSONResponse:
    # Load balancers and clients retry a 503 (elsewhere) after Retry-After; a 4xx would be the caller's fault.
    log.warning("unavailable: %s", exc.message)
    return _error(503, exc.code, exc.message, exc.hint, exc.where, headers={"Retry-After": str(exc.retry_after_s)})


def _principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> ApiToken:
    principal: ApiToken = request.app.state.auth.principal(authorization)
    return principal


# Module level: FastAPI resolves route annotations in this module's namespace.
Principal = Annotated[ApiToken, Depends(_principal)]


def _origin_regex(origins: list[str]) -> str | None:
    if not origins:
        return None
    return "^(?:" + "|".join(re.escape(o).replace(r"\*", r"[a-z0-9-]+") for o in origins) + ")$"


def _route_path(api: FastAPI, scope: Scope) -> str:
    """The matched route's template, a bounded metrics label. API routes put themselves in the
    scope; Starlette's own routes (/docs, /openapi.json) and mounts (static files) only their endpoint."""
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    endpoint = scope.get("endpoint")
    if endpoint is not None:
        for r in api.routes:
            if getattr(r, "endpoint", None) is endpoint or getattr(r, "app", None) is endpoint:
                return str(getattr(r, "path", "unmatched"))
    return "unmatched"


def create_app(copilot: Copilot, *, webhooks: bool = True, routes: list[BaseRoute] | None = None,
               optional: dict[str, Callable[[], str]] | None = None) -> FastAPI:
    """The service for a Copilot: the API, the sidebar, and (``webhooks``) the helpdesk webhooks;
    ``routes`` are mounted as they are (``copilot serve`` adds Slack's). ``optional`` are readiness
    checks of parts the rest can serve without (Slack): named by ``/readyz`` but never a 503."""
    config = copilot.config
    auth = Authenticator(config.api.tokens)
    metrics = Metrics()
    api = FastAPI(title="support-copilot", version=__version__, description="Grounded reply suggestions for support agents.")
    api.state.copilot, api.state.metrics, api.state.auth = copilot, metrics, auth

    # --- cross-cutting -------------------------------------------------------------------------

    # Inside the request-id middleware below (added first, so innermost): a 504 carries the request id.
    api.add_middleware(_TimeBudget, seconds=copilot.settings.request_budget_s + BUDGET_GRACE_S)

    @api.middleware("http")
    async def observe(request: Request, call_next: Any) -> Response:
        rid = new_request_id(request.headers.get("x-request-id"))
        token = request_id.set(rid)
        t0 = time.perf_counter()
        status = 500
        try:
            response: Response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-ID"] = rid
            return response
        finally:
            path = _route_path(api, request.scope)
            metrics.requests.labels(request.method, path, str(status)).inc()
            metrics.latency.labels(request.method, path).observe(time.perf_counter() - t0)
            log.info("%s %s %s", request.method, request.url.path, status,
                     extra={"request_id": rid, "method": request.method, "path": request.url.path, "status": status,
                            "ms": elapsed_ms(t0), "client": request.client.host if request.client else None})
            request_id.reset(token)

    api.add_middleware(_BodyLimit, limit=config.api.max_body_bytes)
    regex = _origin_regex(config.api.cors_origins)
    if regex:
        api.add_middleware(CORSMiddleware, allow_origin_regex=regex, allow_methods=["GET", "POST", "OPTIONS"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Request-ID"], max_age=600)

    @api.exception_handler(CopilotError)
    async def copilot_error(_: Request, exc: CopilotError) -> JSONResponse:
        if isinstance(exc, UnavailableError):
            return _unavailable(exc)
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
        if status >= 500:
            log.error("%s", exc)
        return _error(status, exc.code, exc.message, exc.hint, exc.where)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI's own refusals (a body that is not JSON, an unknown route) in the documented shape.
        unreadable = exc.status_code == 400
        code = "invalid_json" if unreadable else {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code,
                                                                                                 "http_error")
        message = "the request body is not valid UTF-8 JSON (or is nested too deeply)" if unreadable else str(exc.detail)
        return _error(exc.status_code, code, message, "send one JSON document, UTF-8 encoded" if unreadable else None,
                      "body" if unreadable else None)

    @api.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        return _error(422, "invalid_input", f"{where}: {err.get('msg')}", "see the API docs at /docs", where)

    async def dependency_failed(_: Request, exc: Exception) -> JSONResponse:
        return _unavailable(as_unavailable(exc) or UnavailableError(f"a dependency failed ({type(exc).__name__})"))

    for cls in dependency_errors():  # handled here, not re-raised as a crash (no traceback in the log)
        api.add_exception_handler(cls, dependency_failed)

    @api.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:
        down = as_unavailable(exc)
        if down is not None:
            return _unavailable(down)
        log.exception("unhandled error")
        return _error(500, "internal_error", "the copilot failed on this request",
                      "retry; if it persists, give the request id to your admin")

    def brand_for(p: ApiToken, requested: str | None) -> str:
        brand = requested or auth.default_brand(p, copilot.default_brand())
        auth.check_brand(p, brand)
        return str(brand)

    def brands(p: ApiToken) -> list[str]:
        return list(p.brands)

    # --- API ------------------------------------------------------------------------------------

    @api.post("/v1/suggestions", response_model=Suggestion, tags=["suggestions"])
    def suggest(ticket: Ticket, p: Principal, brand: str | None = None) -> Suggestion:
        """Draft a reply for a ticket (DESIGN.md shape), with citations and next actions."""
        b = brand_for(p, brand or ticket.brand)
        return copilot.suggest(ticket, brand=b, channel="api", context={"source": "api", "client": p.name})

    @api.post("/v1/suggestions/{suggestion_id}/feedback", response_model=FeedbackRecord, tags=["suggestions"])
    def feedback(suggestion_id: str, body: FeedbackIn, p: Principal) -> FeedbackRecord:
        """Record what the agent did with a suggestion: one outcome per suggestion (a second is 409)."""
        return copilot.record_feedback(suggestion_id, body.outcome, agent=body.agent or p.name, channel="api",
                                       final_text=body.final_text, reason=body.reason, comment=body.comment,
                                       brands=brands(p))

    @api.post("/v1/suggestions/{suggestion_id}/rewrite", response_model=Suggestion, tags=["suggestions"])
    def rewrite(suggestion_id: str, body: RewriteIn, p: Principal) -> Suggestion:
        """Shorter, friendlier, more formal, translated, or your own edit instructions."""
        return copilot.rewrite_shown(suggestion_id, body.instruction, language=body.language, brands=brands(p))

    @api.get("/v1/search", response_model=list[HitOut], tags=["search"])
    def search(p: Principal, q: Annotated[str, Query(min_length=1, max_length=2_000)],
               brand: str | None = None, k: Annotated[int, Query(ge=1, le=50)] = 10) -> list[HitOut]:
        b = brand_for(p, brand)
        return [HitOut(source_id=h.source_id, kind=h.chunk.kind, title=h.chunk.title, url=h.chunk.url or None,
                       score=round(h.score, 6), text=h.chunk.text[:2_000]) for h in copilot.search(q, brand=b, k=k)]

    @api.post("/v1/tickets", response_model=IngestOut, tags=["ingest"])
    def ingest(body: TicketsIn, p: Principal) -> IngestOut:
        """Index resolved tickets (personal data is removed first). Unresolved ones are skipped."""
        # Every ticket gets an explicit brand the token covers before anything is written.
        tickets = [t.model_copy(update={"brand": brand_for(p, body.brand or t.brand)}) for t in body.tickets]
        for i, t in enumerate(tickets):  # refused whole, before anything is written
            if not t.id.strip():
                raise InputError("a ticket without an id cannot be stored", where=f"tickets[{i}].id",
                                 hint='give every ticket its helpdesk id as "id"')
            copilot.accept_ticket(t, where=f"tickets[{i}]", answerable=False)
        resolved = [t for t in tickets if t.is_resolved]
        skipped = [t.id for t in tickets if not t.is_resolved]
        summary = copilot.ingest_records(tickets=resolved) if resolved else None
        return IngestOut(added=summary.added if summary else 0, updated=summary.updated if summary else 0,
                         unchanged=summary.unchanged if summary else 0, skipped=skipped,
                         quarantined=[f"{sid}: {why}" for sid, why in summary.quarantined] if summary else [])

    # --- operations -----------------------------------------------------------------------------

    # Liveness runs on the event loop and touches nothing: a slow database or a busy thread pool
    # never makes a live replica look dead.
    @api.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        """Each dependency: "ok", or what is failing. 503 when the index or the database is down;
        "degraded" (still 200: the API serves) when only an optional part (Slack) is."""
        try:
            checks = await asyncio.wait_for(run_in_threadpool(copilot.health), READY_TIMEOUT_S)
        except TimeoutError:
            checks = {"dependencies": f"timeout: no answer within {READY_TIMEOUT_S:.0f}s"}
        ok = all(v == "ok" for v in checks.values())
        extra = {name: check() for name, check in (optional or {}).items()}
        status = "not_ready" if not ok else "ok" if all(v == "ok" for v in extra.values()) else "degraded"
        return JSONResponse({"status": status, "checks": {**checks, **extra}}, status_code=200 if ok else 503,
                            headers=None if ok else {"Retry-After": "5"})

    @api.get("/metrics", tags=["ops"])
    def prometheus() -> PlainTextResponse:
        text = generate_latest(metrics.registry).decode() + generate_latest(copilot.metrics_registry).decode()
        return PlainTextResponse(text, media_type=CONTENT_TYPE_LATEST)

    # --- sidebar, Slack, webhooks -----------------------------------------------------------------

    @api.get("/sidebar", include_in_schema=False)
    def sidebar() -> FileResponse:
        return FileResponse(SIDEBAR_DIR / "index.html", media_type="text/html; charset=utf-8")

    api.mount("/sidebar/static", StaticFiles(directory=SIDEBAR_DIR), name="sidebar-static")

    if webhooks:
        from copilot.integrations.http.webhooks import webhook_router

        api.include_router(webhook_router(copilot))
    api.router.routes.extend(routes or [])
    return api
