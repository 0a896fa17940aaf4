"""Drafting as the application layer runs it: sources screened, drafters in order of preference,
each draft through the check stage, the next drafter when one fails or its draft cannot be made safe.

The last drafter (the embedded one) always answers; if even its draft cannot be made safe, the
agent gets its honest holding reply, flagged ``no_evidence``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from copilot.checks import CheckContext, Checked, CheckStage, DraftRejected, SourceText, clean_sources
from copilot.drafting.base import Draft, Drafter, DraftFailed, DraftRequest
from copilot.flags import Flag
from copilot.limits import check_budget
from copilot.models import Hit
from copilot.names import plausible_name

__all__ = ["DraftPipeline", "Drafted", "sources_of"]

log = logging.getLogger(__name__)


@dataclass
class Drafted:
    checked: Checked
    drafter: str
    prompt_version: str | None
    usage: dict[str, float] = field(default_factory=dict)
    # The sources the drafters were given (retrieved, of the ticket's brand, without instructions).
    hits: list[Hit] = field(default_factory=list)


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
                 holding: Callable[[DraftRequest], Draft]) -> None:
        if not drafters:
            raise ValueError("at least one drafter is needed")
        self.drafters = list(drafters)
        self.checks = checks
        self.holding = holding

    def run(self, request: DraftRequest, on_partial: Callable[[str], None] | None = None) -> Drafted:
        # Only the ticket's brand, and never a poisoned source (instructions, credential requests,
        # unknown payment links, outlandish promises), whoever drafts.
        hits, poisoned = clean_sources([h for h in request.hits if h.chunk.brand == request.brand],
                                       self.checks.allowed_domains(request.brand, request.profile))
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
            return self._done(draft, checked, flags, drafter.name, usage, hits)
        draft = self.holding(request)
        return self._done(draft, self._check(draft, ctx, "", strict=False), flags, self.drafters[-1].name, usage, hits)

    def _check(self, draft: Draft, ctx: CheckContext, prompt_text: str, *, strict: bool) -> Checked:
        return self.checks.run(draft.body, language=draft.language, citations=draft.citations,
                               confidence=draft.confidence, ctx=replace(ctx, prompt_text=prompt_text), strict=strict)

    @staticmethod
    def _done(draft: Draft, checked: Checked, flags: list[str], drafter: str, usage: dict[str, float],
              hits: list[Hit]) -> Drafted:
        checked.flags = list(dict.fromkeys([*draft.flags, *checked.flags, *flags]))
        return Drafted(checked, drafter, draft.prompt_version, usage, hits)


def _add(total: dict[str, float], part: dict[str, float]) -> None:
    for k, v in part.items():
        total[k] = total.get(k, 0) + v
