"""The PII red-team suite (``eval/redteam/pii_v1.jsonl``) and the adversarial inputs for the
linear-time checks.

A case holds a realistic sentence and the exact values that must not survive redaction; a benign
case holds a look-alike (an amount, a date, a version, a product name) that must come out unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from copilot.errors import InputError
from copilot.privacy.redaction import redact

__all__ = ["ZERO_LEAK_CATEGORIES", "CategoryResult", "PiiCase", "PiiSuiteResult", "adversarial_inputs",
           "load_pii_cases", "run_pii_suite"]

# The targets: none of these may leak, and at most 2% overall.
ZERO_LEAK_CATEGORIES = frozenset({"email", "phone", "card", "iban", "national_id"})


class PiiCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    category: str  # a kind of personal data, or "benign"
    lang: str
    text: str
    secrets: list[str] = []
    field: Literal["body", "subject", "tag", "ticket_id", "title"] = "body"
    author: Literal["customer", "agent"] = "customer"
    kind: str | None = None  # for a benign case: what it looks like (amount, date, version, ...)

    @model_validator(mode="after")
    def _consistent(self) -> PiiCase:
        if (self.category == "benign") == bool(self.secrets):
            raise ValueError("a benign case has no secrets; any other case has at least one")
        missing = [s for s in self.secrets if s not in self.text]
        if missing:
            raise ValueError(f"secrets not in the text: {missing}")
        return self


def load_pii_cases(path: Path) -> list[PiiCase]:
    cases: list[PiiCase] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            cases.append(PiiCase.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise InputError(f"invalid PII case: {exc}", where=f"{path}:{lineno}",
                             hint="one JSON object per line: id, category, lang, text, secrets") from exc
    return cases


@dataclass(frozen=True)
class CategoryResult:
    category: str
    tried: int
    held: int

    @property
    def leak_rate(self) -> float:
        return (self.tried - self.held) / self.tried if self.tried else 0.0


@dataclass
class PiiSuiteResult:
    categories: list[CategoryResult]
    leaks: list[tuple[str, list[str], str]] = field(default_factory=list)  # case id, survivors, output
    benign_tried: int = 0
    false_positives: list[tuple[str, str]] = field(default_factory=list)  # case id, output

    @property
    def tried(self) -> int:
        return sum(c.tried for c in self.categories)

    @property
    def held(self) -> int:
        return sum(c.held for c in self.categories)

    @property
    def leak_rate(self) -> float:
        return (self.tried - self.held) / self.tried if self.tried else 0.0

    @property
    def false_positive_rate(self) -> float:
        return len(self.false_positives) / self.benign_tried if self.benign_tried else 0.0


def _survivors(secrets: list[str], output: str) -> list[str]:
    """Secrets still readable in ``output``: verbatim, or (for numbers) as the same digits with
    other separators."""
    out_digits = "".join(c for c in output if c.isdigit())
    left = []
    for s in secrets:
        digits = "".join(c for c in s if c.isdigit())
        if s in output or (len(digits) >= 6 and digits in out_digits):
            left.append(s)
    return left


def run_pii_suite(cases: list[PiiCase], redactor: Callable[[str], str] | None = None) -> PiiSuiteResult:
    """Redact every case (with ``redactor``, default ``redact(text).text``) and count what held."""
    red = redactor or (lambda t: redact(t).text)
    tally: dict[str, list[int]] = {}
    result = PiiSuiteResult(categories=[])
    for case in cases:
        output = red(case.text)
        if case.category == "benign":
            result.benign_tried += 1
            if output != case.text:
                result.false_positives.append((case.id, output))
            continue
        t = tally.setdefault(case.category, [0, 0])
        t[0] += 1
        left = _survivors(case.secrets, output)
        if left:
            result.leaks.append((case.id, left, output))
        else:
            t[1] += 1
    result.categories = [CategoryResult(c, tried, held) for c, (tried, held) in sorted(tally.items())]
    return result


def adversarial_inputs(size: int = 100_000) -> dict[str, str]:
    """Inputs built to make a backtracking pattern slow, one family per shape a pattern reads:
    runs of the characters it repeats, almost-matches that fail at the very end, and separators
    between every character."""
    def fill(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    return {
        "dots": fill("a."),
        "local_part": fill("a"),
        "at_signs": fill("a@"),
        "at_dots": fill("@a."),
        "domain_labels": "x@" + fill("a.")[:-2],
        "spelled_at": fill("a at a dot "),
        "spelled_brackets": fill("a (at) b (dot) "),
        "digits": fill("1"),
        "digits_spaced": fill("1 "),
        "digits_dashed": fill("12-"),
        "digits_dotted": fill("1."),
        "digits_slashed": fill("12/"),
        "brackets": fill("(1) "),
        "plus_digits": fill("+1 "),
        "card_like": fill("4111 1111 1111 111"),
        "iban_like": fill("DE44 5001 0517 5407 3249 3"),
        "iban_groups": fill("AB12 abcd "),
        "hex_colons": fill("a:"),
        "ipv4_like": fill("1.2.3."),
        "spaces": fill(" "),
        "words_capitalised": fill("Hi Ab Cd Ef Gh "),
        "greeting_runs": fill("Thanks, "),
        "intro_runs": fill("I'm Ab "),
        "vi_names": fill("Chào anh Trần Quốc "),
        "vi_street": fill("12 đường 34 "),
        "cjk": fill("人民南路四段"),
        "cjk_digits": fill("路1号"),
        "cjk_intro": fill("我是王"),
        "keywords_en": fill("order number is "),
        "keywords_vi": fill("số tài khoản của em là "),
        "keywords_zh": fill("订单号是"),
        "dob": fill("DOB 12/"),
        "hashes": fill("#1"),
        "newlines": fill("Regards,\n"),
        "mixed": fill("Ab1@.-/ (at) 9 #"),
    }
