"""Prometheus metrics and one JSON log line per request, with request ids."""

from __future__ import annotations

import contextvars
import json
import logging
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from copilot.pii import redact

__all__ = ["JsonFormatter", "Metrics", "error_response", "request_id"]

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class Metrics:
    """The HTTP layer's own metrics (the application's are in ``Copilot.metrics_registry``). One
    registry per app, so several apps (tests, workers) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("copilot_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("copilot_http_request_seconds", "HTTP request latency", ["method", "route"],
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                                 registry=self.registry)
        self.webhooks = Counter("copilot_webhooks_total", "Helpdesk webhooks received", ["source", "status"],
                                registry=self.registry)


class JsonFormatter(logging.Formatter):
    """Structured logs: one JSON object per line, with the request id of the request being served.
    Messages and tracebacks are redacted: an exception can quote the input that caused it."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"ts": round(record.created, 3), "level": record.levelname.lower(),
                               "logger": record.name, "msg": redact(record.getMessage()).text,
                               "request_id": getattr(record, "request_id", None) or request_id.get()}
        for key in ("method", "path", "status", "ms", "client"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info)).text
        return json.dumps(out, ensure_ascii=False)


def error_response(status: int, code: str, message: str, hint: str | None = None, where: str | None = None,
                   headers: dict[str, str] | None = None) -> Any:
    """The service's one error body: stable code, message, hint, where, and the request id to quote."""
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": {"code": code, "message": message, "hint": hint, "where": where,
                                   "request_id": request_id.get()}}, status_code=status, headers=headers)


def new_request_id(incoming: str | None) -> str:
    # Keep a caller's id (a helpdesk, a proxy) when it is sane; otherwise make one.
    if incoming and len(incoming) <= 128 and incoming.replace("-", "").replace("_", "").isalnum():
        return incoming
    return uuid.uuid4().hex


def elapsed_ms(t0: float) -> float:
    return round(1000 * (time.perf_counter() - t0), 2)
