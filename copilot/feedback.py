"""The feedback store: every suggestion shown and what the agent did with it, durably.

Persistence only: the rules of a suggestion's life (one final outcome, what counts as edited)
are the application layer's (``copilot.lifecycle``); this module makes them hold under
concurrency (one outcome per suggestion is a unique key, claimed in the same transaction as the row).

SQLAlchemy, so any database works by URL (``COPILOT_FEEDBACK_URL``); by default a SQLite file in
the data dir. Three tables:

- ``suggestions``: each suggestion shown, with the ticket it answers and where it was shown, so
  a button pressed hours later (or in another process) can still send, edit or regenerate it;
- ``feedback``: outcomes (accepted, edited, rejected, ignored) with the text finally sent, its
  edit distance to the suggestion, the reason, prompt version and drafter;
- ``events``: delivery ids already handled, so a webhook or Slack retry is done once.

Writes commit before the caller acknowledges the action: nothing acknowledged is lost.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from copilot.errors import ConflictError, NotFoundError
from copilot.models import FINAL_OUTCOMES, FeedbackRecord, FeedbackStats, ShownSuggestion, Suggestion, Ticket

__all__ = ["Base", "FeedbackStore", "create_schema", "edit_distance"]

# Delivery ids (webhooks, Slack events) are kept for a retention period; other claims for good.
DELIVERY_PREFIXES = ("webhook:", "slack:")


def _now() -> datetime:
    return datetime.now(UTC)


def edit_distance(a: str, b: str) -> int:
    """Word-level Levenshtein distance: how many words the agent inserted, deleted or replaced."""
    x, y = a.split(), b.split()
    if len(x) < len(y):
        x, y = y, x
    prev = list(range(len(y) + 1))
    for i, wx in enumerate(x, 1):
        cur = [i]
        for j, wy in enumerate(y, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (wx != wy)))
        prev = cur
    return prev[-1]


class Base(DeclarativeBase):
    """The declarative base of every table in the copilot's database (feedback, events, jobs)."""


class _SuggestionRow(Base):
    __tablename__ = "suggestions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    brand: Mapped[str | None] = mapped_column(String(128), index=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    suggestion: Mapped[dict[str, Any]] = mapped_column(JSON)
    ticket: Mapped[dict[str, Any]] = mapped_column(JSON)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class _FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[str] = mapped_column(String(64), index=True)
    agent: Mapped[str | None] = mapped_column(String(128), index=True)
    brand: Mapped[str | None] = mapped_column(String(128), index=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    final_text: Mapped[str | None] = mapped_column(Text)
    edit_distance: Mapped[int | None] = mapped_column(Integer)
    edit_ratio: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    prompt_version: Mapped[str | None] = mapped_column(String(64))
    drafter: Mapped[str | None] = mapped_column(String(128))
    top_action: Mapped[str | None] = mapped_column(String(64))
    suggested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class _EventRow(Base):
    __tablename__ = "events"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


def create_schema(engine: Engine, then: Callable[[Connection], None] | None = None) -> None:
    """Create the tables that are missing (and run ``then`` in the same step), one process at a time:
    replicas starting together on a new database would otherwise race to create the same table."""
    for attempt in range(5):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(8211407)"))  # any constant of our own
                Base.metadata.create_all(conn)
                if then is not None:
                    then(conn)
            return
        except (IntegrityError, OperationalError, ProgrammingError):
            # SQLite has no such lock: another process created it between our check and our CREATE.
            if attempt == 4:
                raise
            time.sleep(0.1 * (attempt + 1))


class FeedbackStore:
    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            # WAL lets the Slack listener threads and the HTTP service read while one writes.
            @event.listens_for(self.engine, "connect")
            def _pragmas(conn: Any, _: Any) -> None:
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=5000")
                cur.close()

        create_schema(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def for_data_dir(cls, data_dir: Path, url: str | None = None) -> FeedbackStore:
        return cls(url or f"sqlite:///{Path(data_dir).resolve() / 'feedback.db'}")

    # --- idempotency ---------------------------------------------------------------------------

    def first_time(self, key: str | Sequence[str], *rows: Base) -> bool:
        """Record a delivery's keys; False when any was seen before (a retry or a replay: do nothing
        again). ``rows`` (the delivery's job) commit in the same transaction: never a recorded delivery
        without them."""
        keys = [key] if isinstance(key, str) else list(dict.fromkeys(key))
        with self.session() as s:
            s.add_all(_EventRow(key=k[:255]) for k in keys)
            s.add_all(rows)
            try:
                s.commit()
                return True
            except IntegrityError:
                s.rollback()
                return False

    def forget_deliveries(self, *, before: datetime, prefixes: tuple[str, ...] = DELIVERY_PREFIXES) -> int:
        """Delete delivery ids recorded before ``before`` (helpdesks and Slack stop retrying long
        before); outcome claims are never deleted. Returns how many."""
        with self.session() as s:
            result = s.execute(delete(_EventRow).where(_EventRow.created_at < before,
                                                       or_(*(_EventRow.key.startswith(p) for p in prefixes))))
            s.commit()
            return int(cast("CursorResult[Any]", result).rowcount or 0)

    # --- suggestions ---------------------------------------------------------------------------

    def save_suggestion(self, suggestion: Suggestion, ticket: Ticket, *, channel: str | None = None,
                        context: dict[str, Any] | None = None) -> None:
        with self.session() as s:
            s.merge(_SuggestionRow(id=suggestion.id, brand=suggestion.brand, channel=channel,
                                   suggestion=suggestion.model_dump(mode="json", context={"evidence": True}),
                                   ticket=ticket.model_dump(mode="json"), context=context or {}))
            s.commit()

    def get_suggestion(self, suggestion_id: str) -> ShownSuggestion:
        with self.session() as s:
            row = s.get(_SuggestionRow, suggestion_id)
            if row is None:
                raise NotFoundError(f"unknown suggestion {suggestion_id!r}",
                                    hint="it was never shown, or the feedback database was reset")
            return ShownSuggestion(suggestion=Suggestion.model_validate(row.suggestion),
                                   ticket=Ticket.model_validate(row.ticket), channel=row.channel,
                                   context=dict(row.context or {}))

    # --- outcomes ------------------------------------------------------------------------------

    def record(self, rec: FeedbackRecord) -> FeedbackRecord:
        """Store a suggestion's outcome; ConflictError when it already has one (the row stays as it was).

        The claim and the row commit together: two replicas recording at once cannot both win."""
        row = _FeedbackRow(**rec.model_dump(exclude={"created_at"}), created_at=_now())
        with self.session() as s:
            s.add(_EventRow(key=_outcome_key(rec.suggestion_id)))
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                existing = self.outcome(rec.suggestion_id)
                raise ConflictError(
                    f"suggestion {rec.suggestion_id!r} was already {existing.outcome if existing else 'handled'}",
                    hint="each suggestion takes one outcome; draft a new suggestion to try again") from None
            return _record(row)

    def outcome(self, suggestion_id: str) -> FeedbackRecord | None:
        with self.session() as s:
            row = s.scalars(select(_FeedbackRow).where(_FeedbackRow.suggestion_id == suggestion_id)
                            .order_by(_FeedbackRow.id)).first()
            return _record(row) if row is not None else None

    def release(self, suggestion_id: str) -> None:
        """Undo an outcome (its delivery failed): the suggestion can be sent again."""
        with self.session() as s:
            s.execute(delete(_FeedbackRow).where(_FeedbackRow.suggestion_id == suggestion_id))
            s.execute(delete(_EventRow).where(_EventRow.key == _outcome_key(suggestion_id)))
            s.commit()

    def records(self, *, brand: str | None = None, agent: str | None = None) -> Iterator[FeedbackRecord]:
        with self.session() as s:
            q = select(_FeedbackRow).order_by(_FeedbackRow.id)
            if brand:
                q = q.where(_FeedbackRow.brand == brand)
            if agent:
                q = q.where(_FeedbackRow.agent == agent)
            for row in s.scalars(q):
                yield _record(row)

    def ping(self) -> None:
        """Raise when the database cannot be reached (readiness checks)."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def shown(self, *, brand: str | None = None) -> int:
        with self.session() as s:
            q = select(func.count()).select_from(_SuggestionRow)
            if brand:
                q = q.where(_SuggestionRow.brand == brand)
            return int(s.scalar(q) or 0)

    def stats(self, *, agent: str | None = None, brand: str | None = None) -> FeedbackStats:
        """Counts of outcomes. ``seen`` is suggestions with an outcome by this agent (or all shown,
        for the team). Counted in the database: App Home asks on every open."""
        counts: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        with self.session() as s:
            q = select(_FeedbackRow.outcome, _FeedbackRow.reason, func.count()).group_by(
                _FeedbackRow.outcome, _FeedbackRow.reason)
            if brand:
                q = q.where(_FeedbackRow.brand == brand)
            if agent:
                q = q.where(_FeedbackRow.agent == agent)
            for outcome, reason, n in s.execute(q):
                counts[outcome] += n
                if reason:
                    reasons[reason] += n
        seen = sum(counts.values()) if agent else max(self.shown(brand=brand), sum(counts.values()))
        return FeedbackStats(seen=seen, reasons=dict(reasons), **{k: counts[k] for k in FINAL_OUTCOMES})


def _outcome_key(suggestion_id: str) -> str:
    return f"outcome:{suggestion_id}"


def _record(row: _FeedbackRow) -> FeedbackRecord:
    return FeedbackRecord.model_validate({c: getattr(row, c) for c in FeedbackRecord.model_fields})
