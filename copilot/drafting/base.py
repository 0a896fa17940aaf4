"""The Drafter protocol shared by the embedded drafter and the LLM chain.

A drafter turns a screened ticket and its evidence into a reply *body* with the sources it used.
It does not check its own work: the application layer runs the check stage on every draft, and
wraps the body in the brand's frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from copilot.brand import BrandProfile
from copilot.guardrails import Screening
from copilot.models import Citation, Hit, Ticket

__all__ = ["Draft", "DraftFailed", "DraftRequest", "Drafter"]


@dataclass
class DraftRequest:
    ticket: Ticket
    query: str                 # the customer's words, redacted
    language: str              # the customer's language
    brand: str
    profile: BrandProfile
    hits: list[Hit]            # retrieved for this ticket, this brand only, screened
    screening: Screening
    customer_name: str | None = None
    # What an external model may see: the customer's words with numbered PII placeholders,
    # and the originals the check stage puts back into the reply (outbound privacy).
    outbound_query: str | None = None
    pii: dict[str, str] = field(default_factory=dict)


@dataclass
class Draft:
    body: str                  # the reply without greeting, sign-off or disclaimer
    language: str              # the language the body is written in
    citations: list[Citation]
    confidence: float
    flags: list[str] = field(default_factory=list)
    prompt_version: str | None = None
    # LLM calls, tokens and time spent in them (empty for the embedded drafter).
    usage: dict[str, float] = field(default_factory=dict)


class DraftFailed(Exception):
    """The drafter could not draft (a timeout, an HTTP error, an answer that does not parse)."""

    def __init__(self, reason: str, *, usage: dict[str, float] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.usage = usage or {}


@runtime_checkable
class Drafter(Protocol):
    name: str
    # The drafter's own instructions (a system prompt); a reply must never repeat them.
    prompt_text: str

    def draft(self, request: DraftRequest, on_partial: Callable[[str], None] | None = None) -> Draft:
        """Draft a reply body. Drafters that generate text progressively pass the body so far to
        ``on_partial``; others may never call it. Raise ``DraftFailed`` when no draft can be made."""
        ...
