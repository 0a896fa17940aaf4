"""Bounds on what one request or record may cost: sizes, and a time budget per request.

A message, ticket or article over its size limit is refused before any work is done (HTTP 413,
a skipped record at ingest). A request gets a time budget (``COPILOT_REQUEST_BUDGET_S``): the
application layer checks it between stages, so a request past its budget stops at the next stage
with ``TimeBudgetError`` (HTTP 504) instead of holding a worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from copilot.errors import TimeBudgetError, TooLargeError
from copilot.models import Article, Ticket

__all__ = ["Limits", "check_budget", "time_budget"]

_deadline: ContextVar[tuple[float, float] | None] = ContextVar("copilot_deadline", default=None)


@dataclass(frozen=True)
class Limits:
    message_chars: int = 20_000
    ticket_chars: int = 100_000
    article_chars: int = 2_000_000

    def ticket_problem(self, ticket: Ticket) -> str | None:
        """What makes a ticket too large, or None."""
        for i, m in enumerate(ticket.messages):
            if len(m.body) > self.message_chars:
                return (f"message {i + 1} has {len(m.body):,} characters, over the limit of "
                        f"{self.message_chars:,} (COPILOT_MAX_MESSAGE_CHARS)")
        size = _ticket_chars(ticket)
        if size > self.ticket_chars:
            return f"the ticket has {size:,} characters, over the limit of {self.ticket_chars:,} (COPILOT_MAX_TICKET_CHARS)"
        return None

    def article_problem(self, article: Article) -> str | None:
        size = len(article.title) + len(article.body)
        if size > self.article_chars:
            return (f"the article has {size:,} characters, over the limit of {self.article_chars:,} "
                    "(COPILOT_MAX_ARTICLE_CHARS)")
        return None

    def check_ticket(self, ticket: Ticket, where: str | None = None) -> None:
        problem = self.ticket_problem(ticket)
        if problem:
            raise TooLargeError(problem, where=where,
                                hint="send the customer's latest messages only, or raise the limit")


def _ticket_chars(ticket: Ticket) -> int:
    return (sum(len(m.body) for m in ticket.messages) + len(ticket.subject or "") + len(ticket.customer_name or "")
            + sum(len(t) for t in ticket.tags))


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Run the block under a time budget; a budget already running (an outer request) is kept when
    it ends sooner."""
    now = time.monotonic()
    outer = _deadline.get()
    deadline = now + seconds if outer is None else min(outer[0], now + seconds)
    token = _deadline.set((deadline, seconds if outer is None else outer[1]))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_budget(stage: str) -> None:
    """Raise TimeBudgetError when the running request is past its budget (no budget: nothing)."""
    current = _deadline.get()
    if current is not None and time.monotonic() > current[0]:
        raise TimeBudgetError(f"the request ran past its time budget of {current[1]:g}s (stopped before {stage})",
                              hint="retry; if it keeps happening, send a shorter ticket or raise "
                                   "COPILOT_REQUEST_BUDGET_S")
