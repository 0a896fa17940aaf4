"""Confidence that means something: a monotone map from a drafter's own score to the chance that
its draft says what the brand's agents would have sent, fitted on the brand's own history.

Fitting (``fit``): each sampled resolved ticket is drafted from the others (leave one out), the
draft is compared with the reply the agent actually sent, and isotonic regression (pool adjacent
violators) maps the drafter's score to the share of drafts that were "like the agent's". With few
samples the map is pulled towards the default (``PRIOR_WEIGHT`` pseudo-samples), so a brand with
a short history is neither trusted nor condemned on a handful of tickets.

Below ``threshold`` the suggestion is flagged ``low_confidence``: integrations show "no confident
draft", with the sources and actions still there.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from pydantic import BaseModel, Field

__all__ = ["DEFAULT", "Calibration", "fit", "pav"]

# The default threshold, and the share of "good" drafts it stands for, chosen on the TweetSumm train
# split (bench/calibration.py prints coverage and precision at each threshold).
THRESHOLD = 0.45
PRIOR_WEIGHT = 8.0
MIN_SAMPLES = 12


class Calibration(BaseModel):
    """A brand's map from raw drafter score to calibrated confidence, stored with the index."""

    drafter: str = "embedded"
    # Knots (raw score, calibrated confidence), raw increasing; linear in between, flat outside.
    points: list[tuple[float, float]] = Field(default_factory=lambda: [(0.0, 0.0), (1.0, 1.0)])
    threshold: float = THRESHOLD
    samples: int = 0               # drafts the map was fitted on (0: the default map)
    good: int = 0                  # ... of which were like the agent's reply
    history: int = 0               # resolved tickets the brand had when it was fitted
    seconds: float = 0.0           # what fitting cost

    def map(self, raw: float) -> float:
        xs = [p[0] for p in self.points]
        i = bisect.bisect_right(xs, raw)
        if i == 0:
            return self.points[0][1]
        if i == len(xs):
            return self.points[-1][1]
        (x0, y0), (x1, y1) = self.points[i - 1], self.points[i]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)

    def low(self, confidence: float) -> bool:
        return confidence < self.threshold


DEFAULT = Calibration()


def pav(xs: Sequence[float], ys: Sequence[float], weights: Sequence[float] | None = None) -> list[tuple[float, float]]:
    """Isotonic (non-decreasing) regression of ys on xs by pool adjacent violators: the knots
    (x of each block's mean, block value)."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    w = list(weights) if weights is not None else [1.0] * len(xs)
    blocks: list[list[float]] = []   # [sum_wy, sum_w, sum_wx]
    for i in order:
        blocks.append([w[i] * ys[i], w[i], w[i] * xs[i]])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            last = blocks.pop()
            for k in range(3):
                blocks[-1][k] += last[k]
    return [(b[2] / b[1], b[0] / b[1]) for b in blocks]


def fit(raw: Sequence[float], good: Sequence[bool], *, drafter: str = "embedded", history: int = 0,
        seconds: float = 0.0, prior: Calibration = DEFAULT) -> Calibration:
    """The brand's map from its samples (raw score, draft was like the agent's), shrunk to ``prior``."""
    n = len(raw)
    if n < MIN_SAMPLES:
        return prior.model_copy(update={"samples": n, "good": sum(good), "history": history, "seconds": seconds})
    # Pseudo-samples of the prior along the raw range keep a short history from swinging the map.
    grid = [i / 10 for i in range(11)]
    xs = [*raw, *grid]
    ys = [float(g) for g in good] + [prior.map(x) for x in grid]
    ws = [1.0] * n + [PRIOR_WEIGHT / len(grid)] * len(grid)
    points = [(round(x, 4), round(min(1.0, max(0.0, y)), 4)) for x, y in pav(xs, ys, ws)]
    return Calibration(drafter=drafter, points=points, threshold=prior.threshold, samples=n, good=sum(good),
                       history=history, seconds=round(seconds, 2))
