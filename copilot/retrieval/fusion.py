"""Fusion of the dense and lexical signals, weighted per brand and language.

Each signal is standardised over the query's candidate pool (z-scores), then mixed with the dense
share ``w``: ``w * z_dense + (1 - w) * z_lexical``. Unlike reciprocal-rank fusion with a fixed k,
a weak signal gets a small share (or none: ``w = 1`` is dense alone, ``w = 0`` lexical alone) and
a strong one's margins count, not only its order. The share comes from a calibration on the brand's
own data (see ``calibration.py``), stored with the index; languages the calibration could not
measure use a prior measured on public data (bench/retrieval.py, tune queries only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

__all__ = ["FORMAT", "PRIORS", "FusionCalibration", "SignalWeight", "fuse", "prior"]

FORMAT = 1
# Dense share per language, chosen on the *tune* queries of the full-size sets (bench/retrieval.py):
# AFQMC (zh), UIT-ViCoV19QA train questions (vi), Banking77 (en). DEFAULT_SHARE covers the rest.
PRIORS: dict[str, float] = {"zh": 0.7, "vi": 0.5, "en": 0.8}
DEFAULT_SHARE = 0.7
# The grid a calibration searches: 1.0 is dense alone, 0.0 lexical alone.
GRID: tuple[float, ...] = tuple(round(x * 0.1, 1) for x in range(11))


class SignalWeight(BaseModel):
    """The dense share for one language of one brand, and what it rests on."""

    dense: float = Field(ge=0.0, le=1.0)
    source: Literal["calibrated", "prior", "default"]
    queries: int = 0                                           # pseudo-queries it was measured on
    mrr: dict[str, float] = Field(default_factory=dict)        # dense / lexical / fused, on those queries


class FusionCalibration(BaseModel):
    """Stored in the brand collection's metadata; replaced in the same write that publishes a new
    lexical version, so every replica reads weights that match the index it searches."""

    format: int = FORMAT
    analyzer: str
    created_at: str
    chunks: int
    languages: dict[str, SignalWeight] = Field(default_factory=dict)

    def weight(self, language: str) -> SignalWeight:
        return self.languages.get(language) or prior(language)

    @classmethod
    def parse(cls, raw: object) -> FusionCalibration | None:
        """The stored calibration, or None when there is none or another format wrote it."""
        if not isinstance(raw, str):
            return None
        try:
            calibration = cls.model_validate_json(raw)
        except ValueError:
            return None
        return calibration if calibration.format == FORMAT else None


def prior(language: str) -> SignalWeight:
    if language in PRIORS:
        return SignalWeight(dense=PRIORS[language], source="prior")
    return SignalWeight(dense=DEFAULT_SHARE, source="default")


def _z(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def fuse(ids: Iterable[str], dense: Mapping[str, float], lexical: Mapping[str, float], share: float) -> dict[str, float]:
    """Fused score for each candidate id. A candidate missing from ``dense`` (no vector) gets the
    pool's lowest cosine; missing from ``lexical``, BM25's 0 (no query term in it)."""
    pool = list(dict.fromkeys(ids))
    if not pool:
        return {}
    d = np.array([dense.get(c, np.nan) for c in pool], dtype=np.float64)
    d = np.where(np.isnan(d), np.nanmin(d) if not np.all(np.isnan(d)) else 0.0, d)
    lx = np.array([lexical.get(c, 0.0) for c in pool], dtype=np.float64)
    score = share * _z(d) + (1.0 - share) * _z(lx)
    return dict(zip(pool, score.tolist(), strict=True))
