"""Durable jobs: kept in the database until done, retried with backoff, never dropped.

A webhook is answered as soon as its job is stored (helpdesks time out fast and retry), and a
worker thread does the work the application layer registered for its kind: draft + internal note
for a new ticket, ingestion for a solved one.
A job that fails is kept with its error and tried again later (Retry-After honoured); after
``MAX_ATTEMPTS`` it stays in the table as ``failed`` for an admin to see and re-queue.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from copilot.feedback import Base, FeedbackStore
from copilot.helpdesks.http import RetryableError
from copilot.pii import redact

__all__ = ["Job", "Outbox"]

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
BACKOFF_S = 5.0
MAX_BACKOFF_S = 3600.0


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC: SQLite keeps no zone


class Job(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")  # pending, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(DateTime, default=_now, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


Handler = Callable[[dict[str, Any]], None]


class Outbox:
    def __init__(self, store: FeedbackStore, handlers: dict[str, Handler]) -> None:
        Base.metadata.create_all(store.engine)  # the table may be newer than the database
        self.store, self.handlers = store, handlers
        self._session = store.session
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def put(self, kind: str, payload: dict[str, Any]) -> int:
        if kind not in self.handlers:
            raise ValueError(f"no handler for job kind {kind!r}")
        with self._session() as s:
            job = Job(kind=kind, payload=payload, status="pending", attempts=0, next_at=_now())
            s.add(job)
            s.commit()
            self._wake.set()
            return job.id

    def jobs(self, status: str | None = None) -> list[Job]:
        with self._session() as s:
            q = select(Job).order_by(Job.id)
            if status:
                q = q.where(Job.status == status)
            return list(s.scalars(q))

    def run_due(self, now: datetime | None = None) -> int:
        """Run every job that is due; returns how many succeeded."""
        now = now or _now()
        with self._session() as s:
            due = list(s.scalars(select(Job).where(Job.status == "pending", Job.next_at <= now).order_by(Job.id)))
        ok = 0
        for job in due:
            try:
                self.handlers[job.kind](job.payload)
            except Exception as exc:
                self._failed(job.id, exc)
            else:
                self._set(job.id, status="done", attempts=job.attempts + 1, last_error=None)
                ok += 1
        return ok

    def _failed(self, job_id: int, exc: Exception) -> None:
        with self._session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            job.attempts += 1
            job.last_error = redact(f"{type(exc).__name__}: {exc}"[:2000]).text  # errors can quote a ticket
            wait = getattr(exc, "retry_after", None) if isinstance(exc, RetryableError) else None
            if wait is None:
                wait = min(MAX_BACKOFF_S, BACKOFF_S * 2 ** (job.attempts - 1))
            if job.attempts >= MAX_ATTEMPTS:
                job.status = "failed"
                log.error("job %s (%s) failed for good after %s attempts: %s", job.id, job.kind, job.attempts,
                          job.last_error)
            else:
                job.next_at = _now() + timedelta(seconds=wait)
                log.warning("job %s (%s) failed (%s); retry in %.0fs", job.id, job.kind, job.last_error, wait)
            s.commit()

    def _set(self, job_id: int, **values: Any) -> None:
        with self._session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            for k, v in values.items():
                setattr(job, k, v)
            s.commit()

    # --- the worker ----------------------------------------------------------------------------

    def start(self, poll_s: float = 1.0) -> None:
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.run_due()
                except Exception:
                    log.exception("outbox worker error")
                self._wake.wait(poll_s)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="copilot-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
