"""Drafting as the application layer runs it: sources screened, drafters in order of preference,
each draft through the check stage, the next drafter when one fails or its draft cannot be made safe.

Text written for agents (``audience: agent`` articles, agent-directed sentences of articles and
past replies, see ``checks/audience.py``) is taken out of the sources before any drafter sees them
and comes back as the suggestion's guidance.

The last drafter (the embedded one) always answers; if even its draft cannot be made safe, the
agent gets its honest holding reply, flagged ``no_evidence``. A draft's confidence is then mapped
through the brand's calibration for its drafter (fitted on the brand's own history, see
``calibration.py``); below the brand's threshold it is flagged ``low_confidence``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from copilot.brand import BrandProfile
from copilot.calibration import Calibration
from copilot.checks import CheckContext, Checked, CheckStage, DraftRejected, SourceText, clean_sources
from copilot.checks.audience import split_sources
from copilot.drafting.base import Draft, Drafter, DraftFailed, DraftRequest
from copilot.flags import Flag
from copilot.guardrails import screen
from copilot.language import detect_language, reply_language
from copilot.limits import check_budget
from copilot.models import Guidance, Hit, Ticket
from copilot.names import plausible_name
from copilot.pii import Redaction, redact
from copilot.retrieval.search import HybridSearcher
from copilot.signals import Signals

__all__ = ["DraftPipeline", "Drafted", "draft_request", "retrieve", "sources_of"]

# Articles ranked just past the k best sources still come along: past tickets in the customer's
# language crowd out the only article that answers (in another language) otherwise.
EXTRA_ARTICLES = 3

log = logging.getLogger(__name__)


@dataclass
class Drafted:
    checked: Checked
    drafter: str
    prompt_version: str | None
    usage: dict[str, float] = field(default_factory=dict)
    # The sources the drafters were given (retrieved, of the ticket's brand, without instructions).
    hits: list[Hit] = field(default_factory=list)
    # The confidence before the brand's calibration (what calibration is fitted on).
    raw_confidence: float = 0.0
    # Agent-facing text of the sources: for the agent's eyes, never in the reply.
    guidance: list[Guidance] = field(default_factory=list)


def retrieve(searcher: HybridSearcher, query: str, *, brand: str, k: int,
             vector: np.ndarray[Any, Any] | None = None) -> list[Hit]:
    """The ``k`` best sources of the brand for the query, then up to ``EXTRA_ARTICLES`` articles ranked
    just past them."""
    hits = searcher.search(query, brand=brand, k=2 * k, vector=vector)
    return hits[:k] + [h for h in hits[k:] if h.chunk.kind == "article"][:EXTRA_ARTICLES]


def draft_request(ticket: Ticket, *, brand: str, profile: BrandProfile, search: Callable[[str], list[Hit]],
                  private: bool, classify: Callable[[str], Signals] | None = None) -> tuple[DraftRequest, Redaction]:
    """A ticket as the drafters see it: screened, redacted (numbered placeholders for an external
    model when ``private``), its language, and the sources ``search`` finds for the redacted text.
    ``classify``: the escalation classifier, on the redacted text (the text retrieval embeds, so the
    message's vector is computed once); without it only explicit cues count."""
    raw = ticket.customer_text()
    redaction = redact(raw, numbered=True)
    query = redaction.plain_text
    screening = screen(raw, signals=classify(query) if classify is not None else None)
    language = reply_language(detect_language(raw, default=ticket.locale or profile.fallback_language), profile)
    request = DraftRequest(ticket=ticket, query=query, language=language, brand=brand, profile=profile,
                           hits=search(query), screening=screening, customer_name=ticket.customer_name,
                           outbound_query=redaction.text if private else raw,
                           pii=redaction.entities if private else {})
    return request, redaction


def sources_of(hits: Sequence[Hit]) -> dict[str, SourceText]:
    """What each source says (an article retrieved as several sections is one source: all its text counts)."""
    out: dict[str, SourceText] = {}
    for h in hits:
        c = h.chunk
        text = "\n".join([c.text, *c.replies]).strip()
        prev = out.get(c.source_id)
        out[c.source_id] = SourceText(c.source_id, f"{prev.text}\n{text}" if prev else text, c.url or None)
    return out


class DraftPipeline:
    def __init__(self, drafters: Sequence[Drafter], checks: CheckStage,
                 holding: Callable[[DraftRequest], Draft],
                 calibration: Callable[[str], Calibration | None] | None = None) -> None:
        if not drafters:
            raise ValueError("at least one drafter is needed")
        self.drafters = list(drafters)
        self.checks = checks
        self.holding = holding
        # brand -> its calibration (None: confidences are shown as the drafters give them).
        self.calibration = calibration

    def run(self, request: DraftRequest, on_partial: Callable[[str], None] | None = None) -> Drafted:
        # Only the ticket's brand, and never a poisoned source (instructions, credential requests,
        # unknown payment links, outlandish promises), whoever drafts.
        hits, poisoned = clean_sources([h for h in request.hits if h.chunk.brand == request.brand],
                                       self.checks.allowed_domains(request.brand, request.profile))
        # Agent-facing text never reaches a drafter: no drafter can quote it.
        hits, guidance = split_sources(hits)
        # Whatever a helpdesk or a caller put in the name field reaches the greeting only if it is a name.
        name = plausible_name(request.customer_name)
        request = replace(request, hits=hits, customer_name=name)
        ctx = CheckContext(brand=request.brand, profile=request.profile, sources=sources_of(hits),
                           ticket_text=request.outbound_query or request.query, injected=request.screening.injection,
                           pii=request.pii, customer_name=name)
        flags: list[str] = [Flag.POISONED_SOURCE_EXCLUDED] if poisoned else []
        if request.customer_name is None and (request.ticket.customer_name or "").strip():
            flags.append(Flag.CUSTOMER_NAME_DROPPED)
        if request.screening.signals:
            flags.append(Flag.ESCALATE)
        if request.screening.injection:
            flags.append(Flag.POSSIBLE_PROMPT_INJECTION)
        usage: dict[str, float] = {}
        for i, drafter in enumerate(self.drafters):
            last = i == len(self.drafters) - 1
            check_budget(f"drafting with {drafter.name}")
            try:
                draft = drafter.draft(request, on_partial=on_partial) if on_partial else drafter.draft(request)
                checked = self._check(draft, ctx, drafter.prompt_text, strict=not last)
            except (DraftFailed, DraftRejected) as exc:
                if isinstance(exc, DraftFailed):
                    _add(usage, exc.usage)
                    # The cause (a timeout, a bug in a chain) must be visible to whoever runs the service.
                    log.warning("%s could not draft (%s)", drafter.name, exc.reason, exc_info=exc)
                else:
                    _add(usage, draft.usage)  # a rejected draft was paid for all the same
                    flags += exc.flags
                    log.warning("%s's draft was rejected by the checks (%s)", drafter.name, exc.reason)
                if last:
                    break
                flags.append(Flag.LLM_FALLBACK)
                continue
            _add(usage, draft.usage)
            return self._calibrated(self._done(draft, checked, flags, drafter.name, usage, hits, guidance),
                                    request.brand)
        draft = self.holding(request)
        return self._calibrated(self._done(draft, self._check(draft, ctx, "", strict=False), flags,
                                           self.drafters[-1].name, usage, hits, guidance), request.brand)

    def _calibrated(self, drafted: Drafted, brand: str) -> Drafted:
        checked = drafted.checked
        drafted.raw_confidence = checked.confidence
        cal = self.calibration(brand) if self.calibration is not None else None
        if cal is None or cal.drafter != drafted.drafter:
            return drafted
        checked.confidence = round(cal.map(checked.confidence), 3)
        if cal.low(checked.confidence) and not {Flag.NO_EVIDENCE, Flag.LOW_CONFIDENCE} & set(checked.flags):
            checked.flags.append(Flag.LOW_CONFIDENCE)
        return drafted

    def _check(self, draft: Draft, ctx: CheckContext, prompt_text: str, *, strict: bool) -> Checked:
        return self.checks.run(draft.body, language=draft.language, citations=draft.citations,
                               confidence=draft.confidence, ctx=replace(ctx, prompt_text=prompt_text), strict=strict)

    @staticmethod
    def _done(draft: Draft, checked: Checked, flags: list[str], drafter: str, usage: dict[str, float],
              hits: list[Hit], guidance: list[Guidance]) -> Drafted:
        checked.flags = list(dict.fromkeys([*draft.flags, *checked.flags, *flags]))
        return Drafted(checked, drafter, draft.prompt_version, usage, hits, guidance=guidance)


def _add(total: dict[str, float], part: dict[str, float]) -> None:
    for k, v in part.items():
        total[k] = total.get(k, 0) + v
