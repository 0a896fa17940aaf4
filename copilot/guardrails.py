"""Screening of incoming tickets: escalation signals and prompt-injection attempts.

Rules are multilingual keyword/regex lists: cheap, explainable (each signal
names what matched), and run on every ticket before drafting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Screening", "screen"]

_SIGNALS: dict[str, re.Pattern[str]] = {
    "legal_threat": re.compile(
        r"(?i)\b(lawyer|attorney|sue|suing|lawsuit|legal action|court|small claims|ombudsman|consumer protection"
        r"|chargeback|report you to)\b|luật sư|kiện|tòa án|律师|起诉|法院|投诉到|消协"
    ),
    "anger": re.compile(
        r"(?i)\b(furious|outraged|unacceptable|ridiculous|disgusting|pathetic|worst (?:service|company|experience)"
        r"|scam|fraud|rip[- ]?off|fed up|sick of|joke of a)\b|tồi tệ|lừa đảo|bức xúc|quá đáng|太差|骗子|垃圾|气死"
    ),
    "churn_risk": re.compile(
        r"(?i)\b(cancel my (?:account|subscription|membership)|close my account|switch(?:ing)? to|never (?:buy|order|use)"
        r" (?:from )?(?:you|again)|taking my business|leave for)\b|hủy tài khoản|không bao giờ mua|chuyển sang|销户|注销|再也不"
    ),
    "safety": re.compile(
        r"(?i)\b(fire|smoke|smoking|burn(?:ed|t|ing)?|explod\w*|shock(?:ed)?|injur\w*|hurt|hospital|choking|poison\w*"
        r"|overheat\w*|unsafe|dangerous)\b|cháy|nổ|bỏng|bị thương|nguy hiểm|着火|冒烟|爆炸|受伤|烫伤|触电"
    ),
}

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
_EXCESS = re.compile(r"!{3,}|\?{3,}")


@dataclass
class Screening:
    signals: list[str] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)
    injection: bool = False

    @property
    def escalate(self) -> bool:
        return bool(self.signals)


def screen(text: str) -> Screening:
    out = Screening()
    for name, pattern in _SIGNALS.items():
        m = pattern.search(text)
        if m:
            out.signals.append(name)
            out.evidence[name] = m.group(0)
    if "anger" not in out.signals:
        letters = [w for w in re.findall(r"[A-Za-z]{3,}", text)]
        shouting = sum(1 for w in letters if w.isupper()) >= max(4, len(letters) // 2)
        if shouting and _EXCESS.search(text):
            out.signals.append("anger")
            out.evidence["anger"] = "shouting"
    m = _INJECTION.search(text)
    if m:
        out.injection = True
        out.evidence["possible_prompt_injection"] = m.group(0)
    return out
