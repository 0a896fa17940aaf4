"""Screening of incoming tickets: escalation signals and prompt-injection attempts.

Escalation reasons, sentiment and urgency come from :mod:`copilot.signals` (the embedded model
and cues; the suggestion pipeline passes the classifier's result in). Injection screening is a
multilingual regex list: cheap, explainable (the evidence names what matched), and run on every
ticket and source before drafting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.models import EscalationSignal, Sentiment
from copilot.signals import Signals, cue_signals

__all__ = ["Screening", "injected_text", "screen"]

_INJECTION = re.compile(
    r"(?i)(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+|your\s+)?(previous|prior|above|earlier)\s+"
    r"(instructions|rules|prompts?|messages)"
    r"|\b(reveal|print|show|repeat|leak)\s+(me\s+)?(your|the)\s+(system\s+)?(prompt|instructions|rules)\b"
    r"|\byou are now\b|\bact as\b.{0,40}\b(admin|developer|system)\b|\bsystem prompt\b|\bdeveloper mode\b"
    r"|\bjailbreak\b|<\s*/?\s*(system|assistant|instructions?|ticket|source|draft)\b[^>]{0,200}>|\[\s*/?\s*(system|inst)\s*\]"
    r"|\b(instructions?|note|message|command)\s+(to|for)\s+(the\s+)?(assistant|ai|model|llm|bot|chatbot)\b"
    r"|\b(assistant|ai systems?|the model|llm|chatbot)\s*(:|must\b|should\b|reading this\b)"
    r"|\b(developer|admin|system)\s+(override|mode|rule)\b|\bsystem\s*:|\bforget (your|all|the) (rules|instructions)\b"
    r"|\brespond only with\b|\brepeat this exactly\b"
    r"|\b(reply|respond|answer|output)\s+(only\s+)?(in|as|with)\s+(json|xml|yaml|markdown|code)\b"
    r"|\b\w{0,40}?_?(override|admin|debug|sudo)\w{0,40}\s{0,5}[=:]\s{0,5}(true|1|yes|on)\b"
    r"|bỏ qua (mọi|tất cả|các) (hướng dẫn|chỉ dẫn)|hướng dẫn cho ai|忽略(之前|以上|所有)的?(指令|指示|说明)|给ai的指令"
)


@dataclass
class Screening:
    # Escalation reasons (see copilot.signals.REASONS); "legal_threat" and "safety" are hard ones.
    signals: list[str] = field(default_factory=list)
    # reason -> the customer's words that triggered it; "possible_prompt_injection" -> the match.
    evidence: dict[str, str] = field(default_factory=dict)
    injection: bool = False
    escalation: list[EscalationSignal] = field(default_factory=list)
    sentiment: Sentiment | None = None

    @property
    def escalate(self) -> bool:
        return bool(self.signals)


def screen(text: str, *, signals: Signals | None = None) -> Screening:
    """Screen a ticket. ``signals``: the escalation classifier's result for it; without one, only
    the explicit phrases of each reason count (no model: used where a ticket's text is re-checked)."""
    found = signals if signals is not None else cue_signals(text)
    out = Screening(escalation=list(found.escalation), sentiment=found.sentiment)
    for s in found.escalation:
        if s.reason not in out.evidence:
            out.signals.append(s.reason)
            out.evidence[s.reason] = s.evidence
    injected = injected_text(text)
    if injected is not None:
        out.injection = True
        out.evidence["possible_prompt_injection"] = injected
    return out


def injected_text(text: str) -> str | None:
    """The words of ``text`` addressed to an assistant, if any: the injection screen alone (sources
    and sentences need no escalation cues, and on a long text those cost most of ``screen``)."""
    m = _INJECTION.search(text)
    return m.group(0) if m else None
