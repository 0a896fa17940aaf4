"""Human grades (A/B/C/D, or not shown) and what they say about a drafter: coverage, acceptance, harm,
and whether confidence ranks quality (AUROC, reliability bins, a threshold table).

The scale is the team's grading rubric: A send as is, B small edit, C right direction but a rewrite,
D wrong or harmful; a suggestion that abstains (flagged ``low_confidence`` or ``no_evidence``) is
"not shown" and costs the agent a glance, not trust.

- Coverage = shown / all. Acceptance = (A+B) / graded shown. Harm = D / graded shown.
- AUROC: the chance that a random A/B reply has a higher confidence than a random C/D one
  (0.5 = confidence says nothing; ties count half).

A grade belongs to a reply *text*: an evaluation case carries the replies a person graded, and a new
run counts a grade only where it produced the same reply. New replies are "ungraded" and listed, to be
graded, never guessed.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["GRADES", "HIDDEN_FLAGS", "Grade", "GradeStats", "GradedItem", "GradedReply", "auroc", "find_grade",
           "grade_stats", "is_shown"]

Grade = Literal["A", "B", "C", "D", "not_shown"]
GRADES: tuple[str, ...] = ("A", "B", "C", "D", "not_shown")
GOOD, BAD = frozenset({"A", "B"}), frozenset({"C", "D"})
# Flags under which integrations show "no confident draft" instead of the reply.
HIDDEN_FLAGS = frozenset({"low_confidence", "no_evidence"})
BINS = 5
THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def is_shown(flags: Iterable[str]) -> bool:
    """Whether agents see the reply as a draft (not flagged as abstaining)."""
    return not HIDDEN_FLAGS & set(flags)


class GradedReply(BaseModel):
    """A reply a person graded for a case (from blind grading, or feedback: sent as is = A)."""

    model_config = ConfigDict(extra="forbid")

    reply: str
    grade: Grade
    patterns: list[str] = Field(default_factory=list)   # failure patterns, short tags ("leftover_name")
    note: str = ""
    source: str | None = None                           # what wrote it: a drafter, "feedback:accepted"


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def find_grade(grades: Sequence[GradedReply], reply: str) -> GradedReply | None:
    return next((g for g in grades if _same(g.reply, reply)), None)


@dataclass
class GradedItem:
    """One suggestion as grading sees it: its grade (None: shown but not graded yet) and confidence."""

    grade: str | None
    confidence: float
    patterns: list[str] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.grade != "not_shown"


class ReliabilityBin(BaseModel):
    lo: float
    hi: float
    n: int                       # graded A-D replies with a confidence in [lo, hi)
    mean_confidence: float | None
    acceptance: float | None     # share of A+B among them: what the confidence should have said


class ThresholdPoint(BaseModel):
    """What a confidence threshold would give on the graded replies: shown ones at or above it."""

    threshold: float
    coverage: float
    acceptance: float | None
    harm: float | None


class GradeStats(BaseModel):
    total: int
    shown: int
    counts: dict[str, int]       # A, B, C, D, not_shown, ungraded (shown, no grade for this reply)
    coverage: float | None
    acceptance: float | None
    harm: float | None
    mean_confidence: dict[str, float | None]   # per grade
    auroc: float | None
    bins: list[ReliabilityBin]
    thresholds: list[ThresholdPoint]
    patterns: dict[str, int]

    @property
    def graded(self) -> int:
        return sum(self.counts[g] for g in ("A", "B", "C", "D"))


def auroc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """Area under the ROC curve of a score separating positives from negatives (Mann-Whitney U)."""
    if not positive or not negative:
        return None
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _bins(graded: list[GradedItem]) -> list[ReliabilityBin]:
    out = []
    for i in range(BINS):
        lo, hi = i / BINS, (i + 1) / BINS
        inside = [g for g in graded if lo <= g.confidence < hi or (i == BINS - 1 and g.confidence >= 1.0)]
        out.append(ReliabilityBin(
            lo=lo, hi=hi, n=len(inside),
            mean_confidence=round(statistics.fmean(g.confidence for g in inside), 4) if inside else None,
            acceptance=_share(sum(g.grade in GOOD for g in inside), len(inside))))
    return out


def grade_stats(items: Sequence[GradedItem]) -> GradeStats:
    counts = Counter("ungraded" if i.grade is None else i.grade for i in items)
    graded = [i for i in items if i.grade in GOOD | BAD]
    shown = [i for i in items if i.shown]
    n_graded = len(graded)
    points = []
    for t in THRESHOLDS:
        kept = [i for i in graded if i.confidence >= t]
        points.append(ThresholdPoint(threshold=t, coverage=len([i for i in shown if i.confidence >= t]) / len(items)
                                     if items else 0.0,
                                     acceptance=_share(sum(i.grade in GOOD for i in kept), len(kept)),
                                     harm=_share(sum(i.grade == "D" for i in kept), len(kept))))
    mean_conf: dict[str, float | None] = {}
    for g in GRADES:
        confs = [i.confidence for i in items if i.grade == g]
        mean_conf[g] = round(statistics.fmean(confs), 4) if confs else None
    return GradeStats(
        total=len(items), shown=len(shown), counts={g: counts.get(g, 0) for g in (*GRADES, "ungraded")},
        coverage=_share(len(shown), len(items)),
        acceptance=_share(sum(i.grade in GOOD for i in graded), n_graded),
        harm=_share(sum(i.grade == "D" for i in graded), n_graded),
        mean_confidence=mean_conf,
        auroc=auroc([i.confidence for i in graded if i.grade in GOOD], [i.confidence for i in graded if i.grade in BAD]),
        bins=_bins(graded), thresholds=points,
        patterns=dict(Counter(p for i in items for p in i.patterns).most_common()))
