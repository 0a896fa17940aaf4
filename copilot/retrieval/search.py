"""Hybrid retrieval: dense (Chroma) + lexical (BM25) fused with reciprocal rank fusion.

Brand is isolation on both sides (a Chroma collection and a BM25 index per
brand), never a ranking hint. Every hit carries its dense
cosine (fetched for lexical-only hits too), its BM25 score and ranks, so the
drafter can judge evidence strength and users can see why a hit came back.
"""

from __future__ import annotations

import os
import pickle
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from copilot.models import Chunk, Hit, SourceKind
from copilot.retrieval.embeddings import Embedder
from copilot.retrieval.lexical import BrandIndex, build_brand_index
from copilot.retrieval.store import ChromaStore
from copilot.text import tokenize

__all__ = ["HybridSearcher", "rrf"]

RRF_K = 60
_WORDS = re.compile(r"\w+")


def rrf(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank + 1)
    return scores


def _shingles(text: str) -> set[str]:
    words = _WORDS.findall(text.lower())
    if len(words) < 3:
        return set(words) | {text.lower()}
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


class HybridSearcher:
    def __init__(self, store: ChromaStore, embedder: Embedder, *, version_check_s: float = 30.0,
                 cache_dir: Path | None = None) -> None:
        self.store = store
        self.embedder = embedder
        # BM25 indexes are cached on local disk per brand and store version: a restarted
        # process skips re-reading every chunk's tokens from Chroma (16 s at 100k chunks).
        self.cache_dir = cache_dir
        self._lexical: dict[str, BrandIndex] = {}
        self._checked: dict[str, float] = {}
        self._version_check_s = version_check_s
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._checked.clear()

    def lexical(self, brand: str) -> BrandIndex:
        """The brand's BM25 index, rebuilt when an ingest (in any process) changed the brand."""
        now = time.monotonic()
        idx = self._lexical.get(brand)
        if idx is not None and now - self._checked.get(brand, -1e9) < self._version_check_s:
            return idx
        with self._lock:
            version = self.store.version(brand)
            self._checked[brand] = now
            idx = self._lexical.get(brand)
            if idx is None or idx.version != version:
                idx = self._load_cached(brand, version)
                if idx is None:
                    idx = build_brand_index(list(self.store.iter_lexical(brand)), version)
                    self._save_cached(brand, idx)
                self._lexical[brand] = idx
            return idx

    def _cache_path(self, brand: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{self.store.collection_name(brand)}.bm25.pkl"

    def _load_cached(self, brand: str, version: str) -> BrandIndex | None:
        path = self._cache_path(brand)
        if path is None or not path.is_file():
            return None
        try:
            with path.open("rb") as fh:
                idx = pickle.load(fh)  # our own cache file in the user's data dir
        except Exception:
            return None  # a stale or partial cache is rebuilt, never fatal
        return idx if isinstance(idx, BrandIndex) and idx.version == version else None

    def _save_cached(self, brand: str, idx: BrandIndex) -> None:
        path = self._cache_path(brand)
        if path is None or not idx.version:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(idx, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)  # atomic: readers never see half a file
        except OSError:
            pass  # a read-only data dir only costs the rebuild

    def search(self, query: str, *, brand: str, k: int = 8, kinds: Sequence[SourceKind] | None = None,
               locale: str | None = None, dedupe: bool = True, vector: np.ndarray[Any, Any] | None = None) -> list[Hit]:
        """``vector``: the query's embedding when the caller already has it (embedded in a batch)."""
        if not query.strip():
            return []
        pool = max(4 * k, 24)
        clauses: list[dict[str, Any]] = []
        if kinds and len(kinds) == 1:
            clauses.append({"kind": kinds[0]})
        if locale:
            clauses.append({"locale": locale})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}

        qvec = self.embedder.embed_query(query) if vector is None else vector
        dense = self.store.query(brand, qvec, pool, where)
        dense_ids = [c.id for c, _ in dense]
        chunks: dict[str, Chunk] = {c.id: c for c, _ in dense}
        dense_sim = {c.id: s for c, s in dense}

        lex = self.lexical(brand).search(tokenize(query), pool)
        lex_score = dict(lex)
        missing = [cid for cid, _ in lex if cid not in chunks]
        if missing:
            for cid, (chunk, vec) in self.store.get(brand, missing, with_vectors=True).items():
                # Filters other than brand are applied here for lexical hits.
                if (kinds and chunk.kind not in kinds) or (locale and chunk.locale != locale):
                    continue
                chunks[cid] = chunk
                if vec is not None:
                    dense_sim[cid] = float(np.dot(vec, qvec))
        lex_ids = [cid for cid, _ in lex if cid in chunks]

        fused = rrf([dense_ids, lex_ids])
        order = sorted(fused, key=lambda cid: (-fused[cid], -dense_sim.get(cid, 0.0)))
        d_rank = {cid: i + 1 for i, cid in enumerate(dense_ids)}
        l_rank = {cid: i + 1 for i, cid in enumerate(lex_ids)}
        hits: list[Hit] = []
        seen: list[set[str]] = []
        for cid in order:
            chunk = chunks[cid]
            if chunk.brand != brand:  # defence in depth: never let another brand through
                continue
            if dedupe and chunk.kind == "ticket":
                sh = _shingles(chunk.text)
                if any(len(sh & s) / max(1, len(sh | s)) >= 0.8 for s in seen):
                    continue
                seen.append(sh)
            hits.append(Hit(chunk=chunk, score=fused[cid], dense=dense_sim.get(cid), lexical=lex_score.get(cid),
                            dense_rank=d_rank.get(cid), lexical_rank=l_rank.get(cid)))
            if len(hits) >= k:
                break
        return hits
