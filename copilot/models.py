"""Domain types shared by every layer. Pydantic models are the boundary contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "ESCALATION_REASONS",
    "Article",
    "Chunk",
    "Citation",
    "EscalationExamples",
    "EscalationSignal",
    "Hit",
    "Message",
    "NextAction",
    "Sentiment",
    "SourceKind",
    "StreamEvent",
    "Suggestion",
    "Ticket",
]

SourceKind = Literal["article", "ticket"]
RESOLVED_STATUSES = frozenset({"solved", "closed", "resolved"})
# Exports often carry numeric ids (Zendesk, CSV): accept them, store text.
SourceId = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    author: Literal["customer", "agent"]
    body: str
    created_at: str | None = None


class Ticket(BaseModel):
    """A support ticket in the DESIGN.md shape (contract)."""

    model_config = ConfigDict(extra="ignore")

    id: SourceId = ""
    subject: str | None = None
    status: str | None = None
    brand: str | None = None
    locale: str | None = None
    tags: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    customer_name: str | None = None

    @property
    def is_resolved(self) -> bool:
        return self.status is None or self.status.lower() in RESOLVED_STATUSES

    def customer_text(self) -> str:
        parts = [self.subject or ""] + [m.body for m in self.messages if m.author == "customer"]
        return "\n".join(p for p in parts if p.strip())

    def agent_replies(self) -> list[str]:
        return [m.body for m in self.messages if m.author == "agent" and m.body.strip()]


class Article(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: SourceId
    title: str = ""
    body: str
    url: str | None = None
    locale: str | None = None
    brand: str | None = None
    tags: list[str] = Field(default_factory=list)
    updated_at: str | None = None


class Chunk(BaseModel):
    """One unit stored in the index: already redacted."""

    id: str
    source_id: str
    kind: SourceKind
    text: str
    title: str = ""
    brand: str = ""
    locale: str = ""
    url: str = ""
    tags: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    # For tickets: the agent replies in order (redacted); the drafter reuses them.
    replies: list[str] = Field(default_factory=list)
    chunk_index: int = 0
    n_chunks: int = 1
    source_hash: str = ""

    @property
    def resolution(self) -> str:
        return "\n\n".join(self.replies)


class Hit(BaseModel):
    """A retrieved chunk with every score that led to it."""

    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None

    @property
    def source_id(self) -> str:
        return self.chunk.source_id


class Citation(BaseModel):
    source_id: str
    kind: SourceKind
    title: str | None = None
    url: str | None = None
    snippet: str


class NextAction(BaseModel):
    id: str
    title: str
    confidence: float
    reason: str | None = None


# Why a ticket should go to a person (copilot.signals classifies them).
ESCALATION_REASONS = ("anger", "legal_threat", "public_complaint", "chargeback", "churn_risk", "safety",
                      "manager_request")


def _known_reasons(v: dict[str, list[str]]) -> dict[str, list[str]]:
    unknown = sorted(set(v) - {*ESCALATION_REASONS, "benign"})
    if unknown:
        raise ValueError(f"unknown escalation reason(s) {unknown}: use {', '.join(ESCALATION_REASONS)}, "
                         "or benign for look-alikes that must not escalate")
    return v


# Extra seed examples: reason -> messages, and "benign" -> look-alikes that must not escalate.
EscalationExamples = Annotated[dict[str, list[str]], AfterValidator(_known_reasons)]


class EscalationSignal(BaseModel):
    """Why a message should go to a person: the reason, the customer's words, how sure we are."""

    reason: str
    evidence: str
    confidence: float
    # The seed example nearest to the evidence, when the embedded model decided.
    seed: str | None = None


class Sentiment(BaseModel):
    """``score`` from -1 (very negative) to 1 (very positive); ``urgency`` from 0 to 1."""

    score: float
    label: Literal["negative", "neutral", "positive"]
    urgency: float


class Suggestion(BaseModel):
    """The suggestion JSON (contract, see DESIGN.md)."""

    id: str
    reply: str
    language: str
    citations: list[Citation] = Field(default_factory=list)
    next_actions: list[NextAction] = Field(default_factory=list)
    confidence: float
    flags: list[str] = Field(default_factory=list)
    drafter: str
    prompt_version: str | None = None
    latency_ms: float = 0.0
    # For LLM drafting: calls, input/output tokens and milliseconds spent in the model.
    usage: dict[str, float] = Field(default_factory=dict)
    # Sentences stating a policy, amount, time frame or promise that no cited source supports
    # (flag "unsupported_claim"): what the agent should check before sending.
    unsupported_claims: list[str] = Field(default_factory=list)
    brand: str | None = None
    ticket_id: str | None = None
    # The customer's mood and how urgent the ticket is, and why it should go to a person (best first).
    sentiment: Sentiment | None = None
    escalation: list[EscalationSignal] = Field(default_factory=list)


class StreamEvent(BaseModel):
    """One step of a streamed suggestion: ``partial`` (the reply so far) or ``suggestion`` (the end)."""

    type: Literal["partial", "suggestion"]
    text: str
    suggestion: Suggestion | None = None
