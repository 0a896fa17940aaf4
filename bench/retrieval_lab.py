"""In-memory copies of the retrieval signals over a full-size set, for measuring choices fast.

The vectors are the model's (through the on-disk cache), the chunks are exactly what ingest makes,
BM25 is bm25s over an analyzer's terms; dense search is exact (no HNSW), which is what HNSW
approximates. The pipeline as shipped is measured by bench/retrieval.py through Chroma.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import bm25s
import numpy as np

from bench.embed_cache import CachedEmbedder
from bench.retrieval_sets import Query, RetrievalSet
from copilot.models import Chunk
from copilot.retrieval.chunking import article_chunks, ticket_chunks
from copilot.retrieval.ingest import embed_text
from copilot.retrieval.lexical import lexical_text

__all__ = ["Lab", "metrics"]


def metrics(ranked: Sequence[Sequence[str]], queries: Sequence[Query]) -> dict[str, float]:
    """recall@5 (a relevant source in the top 5), MRR@10, nDCG@10 (binary gains), source level."""
    r5 = mrr = ndcg = 0.0
    for ids, q in zip(ranked, queries, strict=True):
        top = list(dict.fromkeys(ids))[:10]
        rel = [s in q.relevant for s in top]
        r5 += any(rel[:5])
        first = next((i for i, r in enumerate(rel) if r), None)
        mrr += 0.0 if first is None else 1 / (first + 1)
        dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(rel) if r)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(q.relevant))))
        ndcg += dcg / ideal if ideal else 0.0
    n = max(1, len(queries))
    return {"recall@5": r5 / n, "mrr@10": mrr / n, "ndcg@10": ndcg / n}


@dataclass
class Lab:
    data: RetrievalSet
    embedder: CachedEmbedder
    chunks: list[Chunk] = field(default_factory=list)
    vectors: Any = None
    dense: bool = True              # False: lexical measurements only, nothing is embedded
    _bm25: dict[str, tuple[Any, dict[str, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for a in self.data.articles:
            self.chunks += article_chunks(a, self.data.brand)
        for t in self.data.tickets:
            self.chunks += ticket_chunks(t, self.data.brand)
        if self.dense:
            self.vectors = self.embedder.embed_documents([embed_text(c) for c in self.chunks])
        self.source = [c.source_id for c in self.chunks]

    def query_vectors(self, queries: Sequence[Query]) -> Any:
        return self.embedder.embed_queries([q.text for q in queries])

    def dense_scores(self, qvecs: Any) -> Any:
        return qvecs @ self.vectors.T

    def bm25_scores(self, analyzer: Callable[[str], list[str]], queries: Sequence[Query], key: str) -> Any:
        if key not in self._bm25:
            bm = bm25s.BM25()
            bm.index([analyzer(lexical_text(c)) or ["\x00"] for c in self.chunks], show_progress=False)
            self._bm25[key] = (bm, bm.vocab_dict)
        bm, vocab = self._bm25[key]
        out = np.zeros((len(queries), len(self.chunks)), dtype=np.float32)
        for i, q in enumerate(queries):
            toks = [t for t in analyzer(q.text) if t in vocab]
            if toks:
                out[i] = bm.get_scores(toks)
        return out

    def ranked(self, scores: Any, k: int = 30) -> list[list[str]]:
        """Source ids, best first, from a (queries x chunks) score matrix."""
        out = []
        for row in scores:
            top = np.argpartition(-row, k)[:k]
            top = top[np.argsort(-row[top])]
            out.append(list(dict.fromkeys(self.source[i] for i in top)))
        return out
