"""Backtest on a team's own history: hold out the most recent resolved tickets, index the rest,
draft each held-out ticket from its customer messages only, and score it against what the agent
actually sent. No hand-written cases needed."""

from __future__ import annotations

from pathlib import Path

from copilot.errors import InputError
from copilot.evaluation.cases import EvalCase
from copilot.models import Ticket

__all__ = ["BACKTEST_METRICS", "split_history", "to_case"]

BACKTEST_METRICS = ["rouge_l", "reply_similarity", "action_top1", "action_top3", "language_match", "groundedness",
                    "citation_validity", "brand_voice", "length", "pii_safe", "leftovers", "coverage", "latency_ms",
                    "tokens"]


def _when(t: Ticket) -> str:
    return next((m.created_at for m in t.messages if m.created_at), "") or ""


def _answerable(t: Ticket) -> bool:
    seen_customer = False
    for m in t.messages:
        if m.author == "customer" and m.body.strip():
            seen_customer = True
        elif m.author == "agent" and seen_customer and m.body.strip():
            return True
    return False


def split_history(tickets: list[Ticket], *, holdout: int | None = None,
                  split: float | None = None) -> tuple[list[Ticket], list[Ticket]]:
    """(history to index, held-out tickets): the most recent by first message time, else file order."""
    usable = [t for t in tickets if t.is_resolved and _answerable(t)]
    if len(usable) < 2:
        raise InputError(f"only {len(usable)} resolved tickets with a customer message and an agent reply",
                         hint="a backtest needs at least 2 (and many more to mean anything)")
    ordered = sorted(usable, key=_when) if all(_when(t) for t in usable) else usable
    n = holdout if holdout is not None else max(1, round(len(ordered) * (split if split is not None else 0.2)))
    if not 0 < n < len(ordered):
        raise InputError(f"cannot hold out {n} of {len(ordered)} tickets", hint="use --holdout between 1 and N-1")
    return ordered[:-n], ordered[-n:]


def to_case(t: Ticket) -> EvalCase:
    """The ticket as the agent first saw it (customer messages before the first agent reply), with
    that reply as the reference and the ticket's actions as the expected ones."""
    messages = list(t.messages)
    while messages and messages[0].author == "agent":
        messages.pop(0)  # an agent who wrote first (a proactive message) is not answering anything yet
    opening = []
    for m in messages:
        if m.author == "agent":
            break
        opening.append(m)
    replies = [m.body for m in messages[len(opening):] if m.author == "agent" and m.body.strip()]
    if not opening or not replies:
        raise InputError(f"ticket {t.id!r} has no customer message followed by an agent reply")
    first_reply = replies[0]
    ticket = t.model_copy(update={"messages": opening, "status": "open", "actions": []})
    return EvalCase(id=t.id or str(hash(first_reply)), ticket=ticket, reference_reply=first_reply,
                    expected_actions=list(t.actions))


def load_history(path: Path) -> list[Ticket]:
    from copilot.retrieval import load_tickets

    loaded = load_tickets(path, include_unresolved=False)
    if loaded.issues and not loaded.tickets:
        raise InputError(f"no readable tickets: {loaded.issues[0]}", where=str(path))
    return loaded.tickets
