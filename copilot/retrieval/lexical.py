"""Lexical side of hybrid search: per-brand BM25 over the terms of ``copilot.text.BM25_ANALYZER``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import bm25s
import numpy as np

from copilot.models import Chunk

__all__ = ["BrandIndex", "build_brand_index", "lexical_text"]

# bm25s logs every index build at DEBUG; hosts that configure root logging would drown in it.
logging.getLogger("bm25s").setLevel(logging.WARNING)

Scores = np.ndarray[Any, np.dtype[np.float32]]


def lexical_text(c: Chunk) -> str:
    """What BM25 indexes for a chunk: a ticket is also found by words of its resolution."""
    return f"{c.text}\n{c.resolution[:400]}" if c.kind == "ticket" else c.text


@dataclass
class BrandIndex:
    """BM25 over one brand's chunks: isolation is structural, not a filter."""

    ids: list[str]
    bm25: Any = None
    version: str = ""
    positions: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.positions:
            self.positions = {cid: i for i, cid in enumerate(self.ids)}

    def scores(self, terms: list[str]) -> Scores | None:
        """BM25 of every chunk for these terms (None when no term is in the index)."""
        if self.bm25 is None or not self.ids:
            return None
        vocab = self.bm25.vocab_dict
        known = [t for t in terms if t in vocab]
        if not known:
            return None
        out: Scores = self.bm25.get_scores(known)
        return out

    def top(self, scores: Scores | None, k: int) -> list[tuple[str, float]]:
        if scores is None or k <= 0:
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def lookup(self, scores: Scores | None, ids: list[str]) -> dict[str, float]:
        """The BM25 of given chunks (0 for those without a query term): every candidate of a fusion
        has both signals, not only the ones each list happened to return."""
        if scores is None:
            return dict.fromkeys(ids, 0.0)
        return {cid: float(scores[self.positions[cid]]) if cid in self.positions else 0.0 for cid in ids}

    def search(self, terms: list[str], k: int) -> list[tuple[str, float]]:
        return self.top(self.scores(terms), k)


def build_brand_index(rows: list[tuple[str, str]], version: str) -> BrandIndex:
    """rows: (chunk id, space-joined terms), as stored at ingest: a rebuild never re-tokenises."""
    ids = [cid for cid, _ in rows]
    if not ids:
        return BrandIndex(ids=[], version=version)
    bm25 = bm25s.BM25()
    # An empty document keeps its place (ids and rows stay aligned) without matching anything.
    bm25.index([toks.split() or ["\x00"] for _, toks in rows], show_progress=False)
    return BrandIndex(ids=ids, bm25=bm25, version=version)
