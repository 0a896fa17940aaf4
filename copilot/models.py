"""Domain types shared by every layer. Pydantic models are the boundary contract."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

__all__ = [
    "ESCALATION_REASONS",
    "FEEDBACK_REASONS",
    "FINAL_OUTCOMES",
    "Article",
    "Chunk",
    "Citation",
    "EscalationExamples",
    "EscalationSignal",
    "Evidence",
    "FeedbackReason",
    "FeedbackRecord",
    "FeedbackStats",
    "Guidance",
    "Hit",
    "Message",
    "NextAction",
    "Outcome",
    "SendResult",
    "Sentiment",
    "ShownSuggestion",
    "SourceKind",
    "StreamEvent",
    "Suggestion",
    "Ticket",
]

SourceKind = Literal["article", "ticket"]
# Who an article is written for: agent-only articles are shown to agents as guidance, never quoted.
Audience = Literal["customer", "agent"]
RESOLVED_STATUSES = frozenset({"solved", "closed", "resolved"})
# Exports often carry numeric ids (Zendesk, CSV): accept them, store text.
SourceId = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]


def _encodable(value: Any, where: str) -> None:
    """Text must be valid Unicode: a lone surrogate ("\\ud800" in JSON) breaks every store and log later."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{where or 'text'} holds an invalid character ({value[exc.start]!r}, a lone "
                             "surrogate): send valid UTF-8 text") from None
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _encodable(v, f"{where}[{i}]")


class _ValidText(BaseModel):
    @model_validator(mode="after")
    def _valid_unicode(self) -> Any:
        for name, value in self.__dict__.items():
            _encodable(value, name)
        return self


class Message(_ValidText):
    model_config = ConfigDict(extra="ignore")

    author: Literal["customer", "agent"]
    body: str
    created_at: str | None = None


class Ticket(_ValidText):
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
    # Where the conversation happens: "email", "chat", "messaging", "social" or a network ("twitter").
    # Replies follow the brand's voice on that channel (social: 280 characters at most).
    channel: str | None = None

    @property
    def is_resolved(self) -> bool:
        return self.status is None or self.status.lower() in RESOLVED_STATUSES

    def customer_text(self) -> str:
        parts = [self.subject or ""] + [m.body for m in self.messages if m.author == "customer"]
        return "\n".join(p for p in parts if p.strip())

    def agent_replies(self) -> list[str]:
        return [m.body for m in self.messages if m.author == "agent" and m.body.strip()]


class Article(_ValidText):
    model_config = ConfigDict(extra="ignore")

    id: SourceId
    title: str = ""
    body: str
    url: str | None = None
    locale: str | None = None
    brand: str | None = None
    tags: list[str] = Field(default_factory=list)
    updated_at: str | None = None
    # "agent": written for agents (a script, internal notes); front matter or JSONL ``audience: agent``.
    audience: Annotated[Audience, BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v)] = \
        "customer"


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
    channel: str = ""          # for tickets: where the conversation happened
    audience: Audience = "customer"   # for articles: who it is written for

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


class Evidence(BaseModel):
    """A source retrieved for a ticket, as the drafter saw it (redacted text, every score)."""

    source_id: str
    chunk_id: str
    kind: SourceKind
    title: str = ""
    url: str | None = None
    locale: str = ""
    score: float
    dense: float | None = None
    lexical: float | None = None
    text: str = ""
    # For tickets: the agent replies the drafter may reuse.
    replies: list[str] = Field(default_factory=list)

    @classmethod
    def from_hit(cls, hit: Hit) -> Evidence:
        c = hit.chunk
        return cls(source_id=c.source_id, chunk_id=c.id, kind=c.kind, title=c.title, url=c.url or None,
                   locale=c.locale, score=hit.score, dense=hit.dense, lexical=hit.lexical, text=c.text,
                   replies=c.replies)

    @property
    def full_text(self) -> str:
        """Everything this source says: the passage, and for a ticket the agent's replies."""
        return "\n".join([self.text, *self.replies]).strip()


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


class Guidance(BaseModel):
    """Agent-facing passages of the sources (instructions for agents, internal notes): shown to the
    agent, never quoted into the reply."""

    source_id: str
    title: str = ""
    text: str


class Suggestion(BaseModel):
    """The suggestion JSON (contract, see DESIGN.md).

    ``evidence`` (what was retrieved, with scores) travels with the suggestion so evaluation and
    rewrites never search again, but it is not part of the public JSON unless asked for:
    ``model_dump(context={"evidence": True})``.
    """

    id: str
    reply: str
    language: str
    citations: list[Citation] = Field(default_factory=list)
    next_actions: list[NextAction] = Field(default_factory=list)
    confidence: float
    flags: list[str] = Field(default_factory=list)
    drafter: str
    prompt_version: str | None = None
    latency_ms: float = 0.0                 # drafting time, warm
    # Loading the model and indexes on a process's first suggestion for a brand (0 when warm).
    startup_ms: float = 0.0
    # For LLM drafting: calls, input/output tokens and milliseconds spent in the model.
    usage: dict[str, float] = Field(default_factory=dict)
    # Sentences stating a policy, amount, time frame or promise that no cited source supports
    # (flag "unsupported_claim"): what the agent should check before sending.
    unsupported_claims: list[str] = Field(default_factory=list)
    brand: str | None = None
    ticket_id: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    # The customer's mood and how urgent the ticket is, and why it should go to a person (best first).
    sentiment: Sentiment | None = None
    escalation: list[EscalationSignal] = Field(default_factory=list)
    # What the sources tell the agent (not the customer): rendered beside the reply, never in it.
    guidance: list[Guidance] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _public(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not (isinstance(info.context, dict) and info.context.get("evidence")):
            data.pop("evidence", None)
        return data

    def to_json(self, *, evidence: bool = False, indent: int | None = None) -> str:
        return self.model_dump_json(indent=indent, context={"evidence": evidence})


class StreamEvent(BaseModel):
    """One step of a streamed suggestion: ``partial`` (the reply so far) or ``suggestion`` (the end)."""

    type: Literal["partial", "suggestion"]
    text: str
    suggestion: Suggestion | None = None


# --- feedback: what agents did with a suggestion ------------------------------------------------

Outcome = Literal["accepted", "edited", "rejected", "ignored"]
# Each suggestion takes one outcome: sent as drafted, sent after an edit, rejected, or ignored.
FINAL_OUTCOMES: tuple[Outcome, ...] = ("accepted", "edited", "rejected", "ignored")
FeedbackReason = Literal["wrong_facts", "wrong_tone", "wrong_language", "not_relevant", "other"]
FEEDBACK_REASONS: tuple[FeedbackReason, ...] = ("wrong_facts", "wrong_tone", "wrong_language", "not_relevant",
                                                "other")


class ShownSuggestion(BaseModel):
    """A suggestion as it was shown to an agent: the ticket it answers and where it was shown
    (a Slack thread, a helpdesk ticket...), so an action taken later can still find both."""

    suggestion: Suggestion
    ticket: Ticket
    channel: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


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


class SendResult(BaseModel):
    """What happened when an agent sent a reply: the outcome recorded, and where the reply went
    (``helpdesk:zendesk`` when the application delivered it; None when the caller delivers it)."""

    record: FeedbackRecord
    delivered_to: str | None = None
