"""The Drafter protocol shared by the embedded drafter and the LLM chain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from copilot.brand import BrandProfile
from copilot.guardrails import Screening
from copilot.models import Citation, Hit, Ticket

__all__ = ["Draft", "DraftRequest", "Drafter"]


@dataclass
class DraftRequest:
    ticket: Ticket
    query: str                 # the customer's words, redacted
    language: str              # the customer's language
    brand: str
    profile: BrandProfile
    hits: list[Hit]            # retrieved for this ticket, this brand only
    screening: Screening
    customer_name: str | None = None
    # What an external model may see: the customer's words with numbered PII placeholders,
    # and the originals to put back into its reply (outbound privacy).
    outbound_query: str | None = None
    pii: dict[str, str] = field(default_factory=dict)


@dataclass
class Draft:
    reply: str
    language: str
    citations: list[Citation]
    confidence: float
    flags: list[str] = field(default_factory=list)
    prompt_version: str | None = None
    # LLM calls, tokens and time spent in them (empty for the embedded drafter).
    usage: dict[str, float] = field(default_factory=dict)
    # Claim sentences (policy, amount, time frame, promise) that no cited source supports.
    unsupported_claims: list[str] = field(default_factory=list)


class Drafter(Protocol):
    name: str

    def draft(self, request: DraftRequest, on_partial: Callable[[str], None] | None = None) -> Draft:
        """Draft a reply. Drafters that generate text progressively pass the reply so far to
        ``on_partial``; others may never call it."""
        ...
