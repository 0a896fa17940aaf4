"""Durable jobs, each run by exactly one worker at a time however many processes share the database.

A webhook is answered as soon as its job is stored (helpdesks time out fast and retry); workers do
the work the application layer registered for its kind (a draft as an internal note for a new
ticket, ingestion for a solved one). The rules that make that safe with several replicas:

- **claimed, not selected**: a worker takes due jobs with one ``WITH picked AS (SELECT ... FOR
  UPDATE SKIP LOCKED) UPDATE ... RETURNING``: on PostgreSQL concurrent workers skip each other's
  rows instead of waiting; SQLite has one writer at a time (across processes too), so the same
  statement is a compare-and-set there;
- **leased**: a claimed job is ``running`` until ``lease_until``; the worker renews the lease while
  the job runs (a heartbeat), so only a dead or frozen worker's job is claimed again, once its lease
  has expired. Each claim carries a token: a worker that lost its lease cannot mark the job done
  or failed over the new owner's run;
- **kept**: a failure is stored with its error and retried with backoff (``Retry-After`` honoured);
  after ``MAX_ATTEMPTS`` the job stays ``failed`` for an admin to see (``copilot jobs``) and re-queue.
  Done jobs are pruned after a retention period.

Every run gets the job's ``key`` (stable across attempts) and its attempt number, so an outgoing
call can be made idempotent (``copilot.events``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, cast

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    Text,
    and_,
    create_engine,
    delete,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import Executable

from copilot.feedback import Base, FeedbackStore, create_schema
from copilot.helpdesks.http import RetryableError
from copilot.pii import redact
from copilot.telemetry import AppMetrics

__all__ = ["Job", "JobRun", "LeaseLost", "Outbox", "OutboxStats"]

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
BACKOFF_S = 5.0
MAX_BACKOFF_S = 3600.0
STATUSES = ("pending", "running", "done", "failed")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC: SQLite keeps no zone


class Job(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")  # pending, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(DateTime, default=_now, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    # Added with leases; nullable so an older database gets them by ALTER TABLE (see _add_missing_columns).
    key: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    claim: Mapped[str | None] = mapped_column(String(32))
    worker: Mapped[str | None] = mapped_column(String(128))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)


@dataclass(frozen=True)
class JobRun:
    """One claimed run of a job: what its handler gets."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int  # 1 on the first run; more means an earlier run may have done part of the work
    key: str      # the same on every attempt: the idempotency key of the job's outgoing calls
    token: str    # this claim's token (fencing)
    # Whether this run still holds the job: asked right before an outgoing call, so a worker that
    # was frozen past its lease does not post what the job's new owner is about to post.
    owned: Callable[[], bool] = field(default=lambda: True, compare=False, repr=False)


class LeaseLost(Exception):
    """This run's lease expired and another worker owns the job now: stop, and record nothing."""


# A handler does the job; what it returns (ids of what it created) is kept with the done job.
Handler = Callable[[JobRun], "dict[str, Any] | None"]


@dataclass(frozen=True)
class OutboxStats:
    counts: dict[str, int]
    retrying: int                    # pending jobs that failed before and wait for their next attempt
    expired_leases: int              # running jobs whose worker stopped renewing (died): to be claimed again
    oldest_waiting_s: float | None   # age of the oldest job not yet done (pending or running)


def _due(now: datetime) -> Any:
    return or_(and_(Job.status == "pending", Job.next_at <= now),
               and_(Job.status == "running", Job.lease_until < now))


class Outbox:
    def __init__(self, store: FeedbackStore, handlers: dict[str, Handler], *, lease_s: float = 120.0,
                 metrics: AppMetrics | None = None, job_retention_days: float = 7.0,
                 event_retention_days: float = 30.0) -> None:
        create_schema(store.engine, then=_add_missing_columns)  # the table may be older than this code
        self.store, self.handlers, self.lease_s, self.metrics = store, handlers, lease_s, metrics
        self.job_retention = timedelta(days=job_retention_days)
        self.event_retention = timedelta(days=event_retention_days)
        self._session = store.session
        # Leases are renewed on connections of their own: a heartbeat never queues behind request
        # threads that have taken every connection of the shared pool.
        self._beat = create_engine(store.url, pool_size=2, max_overflow=2, pool_pre_ping=True)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"[:128]
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._in_flight: dict[int, JobRun] = {}
        self._in_flight_lock = threading.Lock()

    # --- queueing ------------------------------------------------------------------------------

    def put(self, kind: str, payload: dict[str, Any], *, delivery: str | Sequence[str] | None = None) -> int | None:
        """Store a job; with ``delivery`` (a delivery's keys), record them in the same transaction: None
        when any was seen before (a retry or a replay), and never a recorded delivery without its job."""
        if kind not in self.handlers:
            raise ValueError(f"no handler for job kind {kind!r}")
        job = Job(kind=kind, payload=payload, status="pending", attempts=0, next_at=_now(), key=uuid.uuid4().hex)
        if delivery is None:
            with self._session() as s:
                s.add(job)
                s.commit()
        elif not self.store.first_time(delivery, job):
            return None
        self._wake.set()
        return job.id

    def jobs(self, status: str | None = None) -> list[Job]:
        with self._session() as s:
            q = select(Job).order_by(Job.id)
            if status:
                q = q.where(Job.status == status)
            return list(s.scalars(q))

    def retry(self, job_ids: list[int] | None = None) -> int:
        """Queue failed jobs again (all of them, or these ids); returns how many."""
        with self._session() as s:
            q = update(Job).where(Job.status == "failed")
            if job_ids is not None:
                q = q.where(Job.id.in_(job_ids))
            n = _changed(s, q.values(status="pending", attempts=0, next_at=_now(), lease_until=None, claim=None))
            s.commit()
        self._wake.set()
        return n

    # --- claiming and finishing ---------------------------------------------------------------

    def claim(self, n: int = 1, now: datetime | None = None) -> list[JobRun]:
        """Take up to ``n`` due jobs (pending and due, or running with an expired lease) for this worker."""
        now = now or _now()
        token = uuid.uuid4().hex
        # A CTE runs once; as an IN (subquery), PostgreSQL may rescan it per row and claim them all.
        picked = (select(Job.id).where(_due(now)).order_by(Job.next_at, Job.id).limit(n)
                  .with_for_update(skip_locked=True).cte("picked"))
        stmt = (update(Job).where(Job.id == picked.c.id, _due(now))
                .values(status="running", attempts=Job.attempts + 1, claim=token, worker=self.worker_id,
                        lease_until=now + timedelta(seconds=self.lease_s))
                .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.key))
        with self._session() as s:
            rows = s.execute(stmt, execution_options={"synchronize_session": False}).all()
            s.commit()
        runs = [JobRun(id=r.id, kind=r.kind, payload=r.payload, attempt=r.attempts, key=r.key or f"job-{r.id}",
                       token=token) for r in sorted(rows, key=lambda r: r.id)]
        runs = [replace(run, owned=partial(self.owns, run.id, run.token)) for run in runs]
        out = []
        for run in runs:
            if run.attempt > MAX_ATTEMPTS:  # its worker died every time (e.g. killed for memory): stop trying
                self._finish(run, status="failed", error=f"lease expired {MAX_ATTEMPTS} times: the worker running "
                                                         "it stopped each time", now=now)
            else:
                out.append(run)
        return out

    def execute(self, run: JobRun) -> bool:
        """Run a claimed job and record how it went; True when it succeeded."""
        t0 = time.perf_counter()
        with self._in_flight_lock:
            self._in_flight[run.id] = run
        try:
            result = self.handlers[run.kind](run)
        except LeaseLost:
            log.warning("job %s (%s): stopped, its lease expired and another worker owns it", run.id, run.kind)
            outcome, ok = "lost_lease", False
        except Exception as exc:
            outcome = self._failed(run, exc)
            ok = False
        else:
            outcome = "done" if self._finish(run, status="done", result=result) else "lost_lease"
            ok = outcome == "done"
        finally:
            with self._in_flight_lock:
                self._in_flight.pop(run.id, None)
        if self.metrics is not None:
            self.metrics.jobs.labels(run.kind, outcome).inc()
            self.metrics.job_seconds.labels(run.kind).observe(time.perf_counter() - t0)
        return ok

    def run_due(self, now: datetime | None = None) -> int:
        """Claim and run every job that is due, one at a time; returns how many succeeded."""
        ok = 0
        while runs := self.claim(1, now=now):
            ok += self.execute(runs[0])
        return ok

    def renew(self) -> int:
        """Extend the leases of the jobs this process is running (the heartbeat)."""
        with self._in_flight_lock:
            runs = list(self._in_flight.values())
        if not runs:
            return 0
        until = _now() + timedelta(seconds=self.lease_s)
        renewed = 0
        with self._beat.begin() as conn:
            for run in runs:
                stmt = update(Job).where(Job.id == run.id, Job.claim == run.token).values(lease_until=until)
                renewed += int(conn.execute(stmt).rowcount or 0)
        return renewed

    def owns(self, job_id: int, token: str) -> bool:
        """Whether the claim ``token`` still holds the job (it was not taken over after its lease expired)."""
        with self._beat.connect() as conn:
            return bool(conn.execute(select(Job.claim).where(Job.id == job_id)).scalar() == token)

    def _failed(self, run: JobRun, exc: Exception) -> str:
        error = redact(f"{type(exc).__name__}: {exc}"[:2000]).text  # errors can quote a ticket
        wait = exc.retry_after if isinstance(exc, RetryableError) else None
        if wait is None:
            wait = min(MAX_BACKOFF_S, BACKOFF_S * 2 ** (run.attempt - 1))
        if run.attempt >= MAX_ATTEMPTS:
            log.error("job %s (%s) failed for good after %s attempts: %s", run.id, run.kind, run.attempt, error)
            self._finish(run, status="failed", error=error)
            return "failed"
        log.warning("job %s (%s) failed (%s); retry in %.0fs", run.id, run.kind, error, wait)
        self._finish(run, status="pending", error=error, next_at=_now() + timedelta(seconds=wait))
        return "retry"

    def _finish(self, run: JobRun, *, status: str, result: dict[str, Any] | None = None, error: str | None = None,
                next_at: datetime | None = None, now: datetime | None = None) -> bool:
        """Record a run's end, only if this claim still owns the job; False when the lease was lost."""
        values: dict[str, Any] = {"status": status, "lease_until": None, "claim": None, "last_error": error}
        if status in {"done", "failed"}:
            values["finished_at"] = now or _now()
        if result is not None:
            values["result"] = result
        if next_at is not None:
            values["next_at"] = next_at
        with self._session() as s:
            n = _changed(s, update(Job).where(Job.id == run.id, Job.claim == run.token).values(**values))
            s.commit()
        if not n:
            log.warning("job %s (%s): its lease expired while it ran, so another worker owns it now; this run's "
                        "end (%s) is not recorded", run.id, run.kind, status)
        return bool(n)

    # --- housekeeping -------------------------------------------------------------------------

    def prune(self, now: datetime | None = None) -> tuple[int, int]:
        """Delete done jobs and webhook/Slack delivery ids past their retention; (jobs, deliveries) removed.
        Failed jobs stay until an admin re-queues or removes them."""
        now = now or _now()
        with self._session() as s:
            jobs = _changed(s, delete(Job).where(Job.status == "done", Job.finished_at < now - self.job_retention))
            s.commit()
        events = self.store.forget_deliveries(before=(now - self.event_retention).replace(tzinfo=UTC))
        return jobs, events

    def stats(self, now: datetime | None = None) -> OutboxStats:
        now = now or _now()
        counts = dict.fromkeys(STATUSES, 0)
        with self._session() as s:
            for status, n in s.execute(select(Job.status, func.count()).group_by(Job.status)):
                counts[str(status)] = int(n)
            retrying = s.scalar(select(func.count()).where(Job.status == "pending", Job.attempts > 0))
            expired = s.scalar(select(func.count()).where(Job.status == "running", Job.lease_until < now))
            oldest = s.scalar(select(func.min(Job.created_at)).where(Job.status.in_(("pending", "running"))))
        return OutboxStats(counts=counts, retrying=int(retrying or 0), expired_leases=int(expired or 0),
                           oldest_waiting_s=(now - oldest).total_seconds() if oldest is not None else None)

    # --- the worker ----------------------------------------------------------------------------

    def start(self, *, threads: int = 1, poll_s: float = 1.0, prune_every_s: float = 600.0) -> None:
        """Run jobs in the background: ``threads`` workers claiming one job at a time, a heartbeat
        renewing their leases, and pruning every ``prune_every_s`` (by a worker with nothing to do)."""
        if self._threads:
            return
        self._stop.clear()
        next_prune = [time.monotonic()]
        prune_lock = threading.Lock()

        def prune_if_due() -> None:
            with prune_lock:
                if time.monotonic() < next_prune[0]:
                    return
                next_prune[0] = time.monotonic() + prune_every_s
            removed = self.prune()
            if any(removed):
                log.info("outbox: pruned %s done jobs and %s old delivery ids", *removed)

        def work() -> None:
            while not self._stop.is_set():
                try:
                    runs = self.claim(1)
                    if not runs:
                        prune_if_due()
                except Exception:
                    log.exception("outbox: cannot claim or prune jobs (database unavailable?)")
                    runs = []
                if runs:
                    self.execute(runs[0])
                    continue
                self._wake.wait(poll_s)
                self._wake.clear()

        def heartbeat() -> None:
            # Only the heartbeat runs here, on its own connections: nothing may delay a renewal.
            every = max(0.2, self.lease_s / 3)
            last = time.monotonic()
            while not self._stop.wait(every):
                try:
                    self.renew()
                except Exception:
                    log.exception("outbox: cannot renew leases (database unavailable?)")
                if time.monotonic() - last > 2 * every:
                    log.warning("outbox: leases renewed %.1fs apart (every %.1fs planned, %.0fs lease): the process "
                                "is starved or the database slow", time.monotonic() - last, every, self.lease_s)
                last = time.monotonic()

        self._threads = [threading.Thread(target=work, name=f"copilot-worker-{i}", daemon=True)
                         for i in range(max(1, threads))]
        self._threads.append(threading.Thread(target=heartbeat, name="copilot-worker-heartbeat", daemon=True))
        for t in self._threads:
            t.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop claiming; wait up to ``timeout_s`` for the jobs in flight (a job still running after
        that is claimed again by another worker once its lease expires)."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        self._threads = []

    def collector(self) -> Collector:
        return _OutboxCollector(self)


class _OutboxCollector(Collector):
    """The outbox as Prometheus gauges, read from the database at scrape time (the same on every replica)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def describe(self) -> list[Any]:
        return []  # read at scrape time: nothing to describe up front (and no query at registration)

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("copilot_outbox_up", "1 when the outbox table could be read")
        try:
            st = self.outbox.stats()
        except Exception:
            log.warning("outbox metrics: the database cannot be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily("copilot_outbox_jobs", "Jobs in the outbox by status", labels=["status"])
        for status, n in st.counts.items():
            jobs.add_metric([status], n)
        yield jobs
        yield GaugeMetricFamily("copilot_outbox_retrying", "Pending jobs waiting for a retry after a failure",
                                value=st.retrying)
        yield GaugeMetricFamily("copilot_outbox_expired_leases",
                                "Running jobs whose worker stopped renewing the lease (to be claimed again)",
                                value=st.expired_leases)
        yield GaugeMetricFamily("copilot_outbox_oldest_waiting_seconds",
                                "Age of the oldest job not done yet (0 when none)", value=st.oldest_waiting_s or 0.0)


def _changed(session: Session, stmt: Executable) -> int:
    """Run an UPDATE or DELETE; how many rows it changed."""
    result = session.execute(stmt, execution_options={"synchronize_session": False})
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def _add_missing_columns(conn: Connection) -> None:
    """Columns added to the outbox since a database was created, added in place (all nullable)."""
    have = {c["name"] for c in inspect(conn).get_columns(Job.__tablename__)}
    for col in Job.__table__.columns:
        if col.name not in have:
            kind = col.type.compile(dialect=conn.dialect)
            conn.execute(text(f'ALTER TABLE {Job.__tablename__} ADD COLUMN "{col.name}" {kind}'))
