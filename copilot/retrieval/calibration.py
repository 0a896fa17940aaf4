"""Calibrate the dense/lexical fusion of one brand on pseudo-queries its own data already holds.

Pseudo-queries, from a deterministic sample of the brand's chunks:
- an article section's heading (or a one-section article's title) for that section;
- a ticket's subject for its opening messages;
- otherwise (no title, no subject) the first sentence of a passage of several sentences for the rest.
The query's text is always taken *out* of its target before scoring (its words from the target's
BM25 terms, and the target re-embedded without it): a query copied from its own target would find it
by exact words, and the calibration would trust the lexical signal far more than real questions
deserve. Each query then ranks the sample with dense alone, lexical alone and every dense share of the
grid; per language, the share with the best MRR@10 wins (ties go to the stronger signal). Pseudo-
queries that neither signal can answer measure nothing: the language keeps its prior.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from copilot.models import Chunk
from copilot.retrieval.embeddings import Embedder
from copilot.retrieval.fusion import GRID, FusionCalibration, SignalWeight, fuse, prior
from copilot.retrieval.lexical import build_brand_index, lexical_text
from copilot.retrieval.store import ChromaStore
from copilot.text import BM25_ANALYZER, LexicalAnalyzer, split_sentences

__all__ = ["Calibrator", "PseudoQuery", "needs_refresh", "pseudo_queries"]

SAMPLE_CHUNKS = 4000       # the corpus each pseudo-query ranks (the whole brand when smaller)
PER_LANGUAGE = 60          # pseudo-queries per language
MIN_QUERIES = 20           # fewer: the language keeps its prior
POOL = 50
MIN_WORDS = 3
REFRESH_SHARE = 0.1
# Below this MRR for both signals the pseudo-queries do not resemble what they should find (say, the
# greeting of a short message for the rest of it): they cannot tell the signals apart, and the
# language keeps its prior, with the measurement shown.
INFORMATIVE_MRR = 0.2


@dataclass
class PseudoQuery:
    text: str
    target: str            # chunk id
    rest: str              # the target's text without the query
    language: str
    kind: str              # "heading", "title", "subject" or "sentence"


def _enough(text: str) -> bool:
    return len(text.split()) >= MIN_WORDS or (len(text) >= 6 and not text.isascii())


def _pseudo_query(c: Chunk) -> PseudoQuery | None:
    first, _, rest = c.text.partition("\n")
    language = c.locale or "und"
    if c.kind == "article" and c.title and first.strip() == c.title and rest.strip():
        heading = c.title.rsplit(" › ", 1)[-1]
        if " › " in c.title or c.n_chunks == 1:
            kind = "heading" if " › " in c.title else "title"
            return PseudoQuery(heading, c.id, rest.strip(), language, kind) if _enough(heading) else None
        return None  # sibling sections repeat the article title: it would not single this one out
    if c.kind == "ticket" and c.title and first.strip() == c.title.strip() and rest.strip() and _enough(first):
        return PseudoQuery(first.strip(), c.id, rest.strip(), language, "subject")
    sents = split_sentences(c.text)
    for i, s in enumerate(sents[:-1]):
        if _enough(s):
            rest_text = " ".join(sents[:i] + sents[i + 1 :])
            return PseudoQuery(s, c.id, rest_text, language, "sentence") if _enough(rest_text) else None
    return None


def pseudo_queries(chunks: list[Chunk], per_language: int = PER_LANGUAGE,
                   min_queries: int = MIN_QUERIES) -> list[PseudoQuery]:
    """Up to ``per_language`` pseudo-queries per chunk language, titled sources first; languages
    with fewer than ``min_queries`` are left out (they keep their prior)."""
    by_lang: dict[str, list[PseudoQuery]] = defaultdict(list)
    order = {"heading": 0, "title": 0, "subject": 0, "sentence": 1}
    found = [q for q in map(_pseudo_query, chunks) if q is not None]
    for q in sorted(found, key=lambda q: order[q.kind]):
        if len(by_lang[q.language]) < per_language:
            by_lang[q.language].append(q)
    return [q for qs in by_lang.values() if len(qs) >= min_queries for q in qs]


def _key(cid: str) -> str:
    return hashlib.sha1(cid.encode()).hexdigest()


def _reciprocal_rank(scores: dict[str, float], target: str) -> float:
    """1/rank within the top 10, a tie counting against the target: an order among equal scores is
    chance, not the signal's merit."""
    if target not in scores:
        return 0.0
    rank = sum(1 for cid, s in scores.items() if cid != target and s >= scores[target]) + 1
    return 1.0 / rank if rank <= 10 else 0.0


class Calibrator:
    def __init__(self, store: ChromaStore, embedder: Embedder, analyzer: LexicalAnalyzer = BM25_ANALYZER) -> None:
        self.store = store
        self.embedder = embedder
        self.analyzer = analyzer

    def calibrate(self, brand: str) -> FusionCalibration:
        ids = self.store.ids(brand)
        # A hash order, not a random one: the same data gives the same calibration in every process.
        sample = sorted(ids, key=_key)[:SAMPLE_CHUNKS]
        got = self.store.get(brand, sample, with_vectors=True)
        chunks = [got[cid][0] for cid in sample if cid in got]
        vectors = {cid: v for cid, (_, v) in got.items() if v is not None}
        queries = pseudo_queries([c for c in chunks if c.id in vectors])
        weights = self._measure(chunks, vectors, queries) if queries else {}
        return FusionCalibration(analyzer=self.analyzer.version, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                                 chunks=len(ids), languages=weights)

    def _measure(self, chunks: list[Chunk], vectors: dict[str, Any],
                 queries: list[PseudoQuery]) -> dict[str, SignalWeight]:
        rest_vecs = self.embedder.embed_documents([q.rest for q in queries])
        embed_many = getattr(self.embedder, "embed_queries", None)
        qvecs = embed_many([q.text for q in queries]) if embed_many else \
            np.stack([self.embedder.embed_query(q.text) for q in queries])
        rest_of = {q.target: (q, v) for q, v in zip(queries, rest_vecs, strict=True)}
        ids = [c.id for c in chunks]
        matrix = np.stack([rest_of[c.id][1] if c.id in rest_of else vectors[c.id] for c in chunks])
        terms = [self.analyzer(rest_of[c.id][0].rest if c.id in rest_of else lexical_text(c)) for c in chunks]
        index = build_brand_index([(cid, " ".join(t)) for cid, t in zip(ids, terms, strict=True)], "calibration")

        pos = {cid: i for i, cid in enumerate(ids)}
        per_lang: dict[str, list[list[float]]] = defaultdict(list)
        for q, qv in zip(queries, qvecs, strict=True):
            dense_all = matrix @ qv
            top_d = np.argsort(-dense_all)[:POOL].tolist()
            lex = index.scores(self.analyzer(q.text))
            pool = list(dict.fromkeys([ids[i] for i in top_d] + [cid for cid, _ in index.top(lex, POOL)]))
            dense = {cid: float(dense_all[pos[cid]]) for cid in pool}
            lexical = index.lookup(lex, pool)
            row = []
            for share in GRID:
                row.append(_reciprocal_rank(fuse(pool, dense, lexical, share), q.target))
            per_lang[q.language].append(row)

        out: dict[str, SignalWeight] = {}
        for lang, rows in per_lang.items():
            mrr = np.mean(np.array(rows), axis=0)
            # Best MRR; among ties the share nearest the stronger signal alone: a share the queries
            # cannot tell from a purer one buys nothing but the weaker signal's noise.
            stronger = 1.0 if mrr[-1] >= mrr[0] else 0.0
            best = max(range(len(GRID)), key=lambda i: (round(float(mrr[i]), 3), -abs(GRID[i] - stronger)))
            measured = {"dense": round(float(mrr[-1]), 4), "lexical": round(float(mrr[0]), 4),
                        "fused": round(float(mrr[best]), 4)}
            if max(mrr[0], mrr[-1]) < INFORMATIVE_MRR:
                out[lang] = prior(lang).model_copy(update={"queries": len(rows), "mrr": measured})
            else:
                out[lang] = SignalWeight(dense=GRID[best], source="calibrated", queries=len(rows), mrr=measured)
        return out


def needs_refresh(old: FusionCalibration | None, chunks: int, analyzer: str) -> bool:
    """Recalibrate when none is stored, the analyzer changed, or the brand grew or shrank by a tenth
    since (small ingests keep the weights: a calibration costs seconds of embedding)."""
    if old is None or old.analyzer != analyzer:
        return True
    return abs(chunks - old.chunks) >= max(1.0, REFRESH_SHARE * old.chunks)
