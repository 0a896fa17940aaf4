"""Lexical side of hybrid search: per-brand BM25 over the tokens of ``copilot.text.tokenize``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np

__all__ = ["BrandIndex", "build_brand_index"]

# bm25s logs every index build at DEBUG; hosts that configure root logging would drown in it.
logging.getLogger("bm25s").setLevel(logging.WARNING)


@dataclass
class BrandIndex:
    """BM25 over one brand's chunks: isolation is structural, not a filter."""

    ids: list[str]
    bm25: Any = None
    version: str = ""

    def search(self, tokens: list[str], k: int) -> list[tuple[str, float]]:
        if self.bm25 is None or not self.ids:
            return []
        vocab = self.bm25.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        scores = self.bm25.get_scores(known)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def build_brand_index(rows: list[tuple[str, str]], version: str) -> BrandIndex:
    """rows: (chunk id, space-joined tokens), as stored at ingest: a rebuild never re-tokenises."""
    ids = [cid for cid, _ in rows]
    if not ids:
        return BrandIndex(ids=[], version=version)
    bm25 = bm25s.BM25()
    bm25.index([toks.split() for _, toks in rows], show_progress=False)
    return BrandIndex(ids=ids, bm25=bm25, version=version)
