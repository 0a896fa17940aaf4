"""The feedback store: every suggestion shown and what the agent did with it, durably.

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

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from copilot.errors import InputError, NotFoundError
from copilot.models import Suggestion, Ticket

__all__ = ["FeedbackRecord", "FeedbackStats", "FeedbackStore", "Outcome", "edit_distance"]

Outcome = Literal["accepted", "edited", "rejected", "ignored"]
OUTCOMES: tuple[str, ...] = ("accepted", "edited", "rejected", "ignored")
REASONS = ("wrong_facts", "wrong_tone", "wrong_language", "not_relevant", "other")


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


class _Base(DeclarativeBase):
    pass


class _SuggestionRow(_Base):
    __tablename__ = "suggestions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    brand: Mapped[str | None] = mapped_column(String(128), index=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    suggestion: Mapped[dict[str, Any]] = mapped_column(JSON)
    ticket: Mapped[dict[str, Any]] = mapped_column(JSON)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class _FeedbackRow(_Base):
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


class _EventRow(_Base):
    __tablename__ = "events"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class FeedbackRecord(BaseModel):
    suggestion_id: str
    outcome: Outcome
    agent: str | None = None
    brand: str | None = None
    channel: str | None = None
    final_text: str | None = None
    edit_distance: int | None = None
    edit_ratio: float | None = None
    reason: str | None = None
    comment: str | None = None
    prompt_version: str | None = None
    drafter: str | None = None
    top_action: str | None = None
    suggested_at: datetime | None = None
    created_at: datetime | None = None


class FeedbackStats(BaseModel):
    seen: int = 0
    accepted: int = 0
    edited: int = 0
    rejected: int = 0
    ignored: int = 0
    reasons: dict[str, int] = Field(default_factory=dict)

    @property
    def acceptance_rate(self) -> float:
        """Sent as is or after an edit, among suggestions seen."""
        return (self.accepted + self.edited) / self.seen if self.seen else 0.0


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

        _Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = threading.Lock()

    @classmethod
    def for_data_dir(cls, data_dir: Path, url: str | None = None) -> FeedbackStore:
        return cls(url or f"sqlite:///{Path(data_dir).resolve() / 'feedback.db'}")

    # --- idempotency ---------------------------------------------------------------------------

    def first_time(self, key: str) -> bool:
        """Record a delivery id; False when it was seen before (a retry: do nothing again)."""
        with self._session() as s:
            s.add(_EventRow(key=key[:255]))
            try:
                s.commit()
                return True
            except IntegrityError:
                s.rollback()
                return False

    # --- suggestions ---------------------------------------------------------------------------

    def save_suggestion(self, suggestion: Suggestion, ticket: Ticket, *, channel: str | None = None,
                        context: dict[str, Any] | None = None) -> None:
        with self._session() as s:
            s.merge(_SuggestionRow(id=suggestion.id, brand=suggestion.brand, channel=channel,
                                   suggestion=suggestion.model_dump(mode="json"),
                                   ticket=ticket.model_dump(mode="json"), context=context or {}))
            s.commit()

    def update_context(self, suggestion_id: str, **context: Any) -> None:
        with self._session() as s:
            row = s.get(_SuggestionRow, suggestion_id)
            if row is None:
                raise NotFoundError(f"unknown suggestion {suggestion_id!r}")
            row.context = {**(row.context or {}), **context}
            s.commit()

    def get_suggestion(self, suggestion_id: str) -> tuple[Suggestion, Ticket, dict[str, Any]]:
        with self._session() as s:
            row = s.get(_SuggestionRow, suggestion_id)
            if row is None:
                raise NotFoundError(f"unknown suggestion {suggestion_id!r}",
                                 hint="it was never shown, or the feedback database was reset")
            return (Suggestion.model_validate(row.suggestion), Ticket.model_validate(row.ticket),
                    dict(row.context or {}))

    # --- outcomes ------------------------------------------------------------------------------

    def record(self, suggestion: Suggestion, outcome: Outcome, *, agent: str | None = None,
               channel: str | None = None, final_text: str | None = None, reason: str | None = None,
               comment: str | None = None, suggested_at: datetime | None = None) -> FeedbackRecord:
        if outcome not in OUTCOMES:
            raise InputError(f"unknown outcome {outcome!r}", hint=f"one of: {', '.join(OUTCOMES)}")
        if reason is not None and reason not in REASONS:
            raise InputError(f"unknown reason {reason!r}", hint=f"one of: {', '.join(REASONS)}")
        distance = ratio = None
        if final_text is not None:
            distance = edit_distance(suggestion.reply, final_text)
            ratio = round(distance / max(1, len(suggestion.reply.split())), 4)
        row = _FeedbackRow(
            suggestion_id=suggestion.id, agent=agent, brand=suggestion.brand, channel=channel, outcome=outcome,
            final_text=final_text, edit_distance=distance, edit_ratio=ratio, reason=reason, comment=comment,
            prompt_version=suggestion.prompt_version, drafter=suggestion.drafter,
            top_action=suggestion.next_actions[0].id if suggestion.next_actions else None,
            suggested_at=suggested_at, created_at=_now())
        with self._session() as s:
            s.add(row)
            s.commit()
            return _record(row)

    def records(self, *, brand: str | None = None, agent: str | None = None) -> Iterator[FeedbackRecord]:
        with self._session() as s:
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
        with self._session() as s:
            q = select(func.count()).select_from(_SuggestionRow)
            if brand:
                q = q.where(_SuggestionRow.brand == brand)
            return int(s.scalar(q) or 0)

    def stats(self, *, agent: str | None = None, brand: str | None = None) -> FeedbackStats:
        """Counts of outcomes. ``seen`` is suggestions with an outcome by this agent (or all shown,
        for the team). Counted in the database: App Home asks on every open."""
        counts: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        with self._session() as s:
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
        return FeedbackStats(seen=seen, reasons=dict(reasons), **{k: counts[k] for k in OUTCOMES})


def _record(row: _FeedbackRow) -> FeedbackRecord:
    return FeedbackRecord.model_validate({c: getattr(row, c) for c in FeedbackRecord.model_fields})
