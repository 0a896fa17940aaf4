"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused with per-brand, per-language weights.

Brand is isolation on both sides (a Chroma collection and a BM25 index per brand), never a ranking
hint. The two signals are mixed with the dense share the brand's calibration measured for the
query's language (``fusion.py``, ``calibration.py``): a signal that does not help a brand gets no
weight, so the hybrid does not fall below its better part. Every hit carries its dense cosine
(fetched for lexical-only hits too), its BM25 score and ranks, so the drafter can judge evidence
strength and users can see why a hit came back (``explain``).
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from copilot.language import detect_language
from copilot.models import Chunk, Hit, SourceKind
from copilot.retrieval.embeddings import Embedder
from copilot.retrieval.fusion import FusionCalibration, SignalWeight, fuse, prior
from copilot.retrieval.lexical import BrandIndex, build_brand_index, lexical_text
from copilot.retrieval.store import ChromaStore
from copilot.text import BM25_ANALYZER, LexicalAnalyzer

__all__ = ["HybridSearcher", "SearchExplanation"]

log = logging.getLogger(__name__)

_WORDS = re.compile(r"\w+")


def _shingles(text: str) -> set[str]:
    words = _WORDS.findall(text.lower())
    if len(words) < 3:
        return set(words) | {text.lower()}
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


class SearchExplanation(BaseModel):
    """What ``copilot search --explain`` shows about how a query was ranked."""

    brand: str
    language: str
    terms: list[str]
    analyzer: str
    index_analyzer: str                 # what the stored terms were made with ("" before versioning)
    weight: SignalWeight
    calibration: FusionCalibration | None


@dataclass
class _BrandState:
    index: BrandIndex
    calibration: FusionCalibration | None
    analyzer: str


class HybridSearcher:
    def __init__(self, store: ChromaStore, embedder: Embedder, *, version_check_s: float = 30.0,
                 cache_dir: Path | None = None, analyzer: LexicalAnalyzer = BM25_ANALYZER) -> None:
        self.store = store
        self.embedder = embedder
        self.analyzer = analyzer
        # BM25 indexes are cached on local disk per brand and store version: a restarted
        # process skips re-reading every chunk's tokens from Chroma (16 s at 100k chunks).
        self.cache_dir = cache_dir
        self._brands: dict[str, _BrandState] = {}
        self._checked: dict[str, float] = {}
        self._version_check_s = version_check_s
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._checked.clear()

    def _state(self, brand: str) -> _BrandState:
        """The brand's BM25 index and calibration, re-read when a publish (in any process) changed them."""
        now = time.monotonic()
        st = self._brands.get(brand)
        if st is not None and now - self._checked.get(brand, -1e9) < self._version_check_s:
            return st
        with self._lock:
            meta = self.store.state(brand)
            self._checked[brand] = now
            stored_analyzer = str(meta.get("analyzer", ""))
            # The index version names the analyzer too: terms of two analyzers never meet.
            version = f"{meta.get('lexical_version', '')}:{self.analyzer.version}" if meta else ""
            st = self._brands.get(brand)
            if st is None or st.index.version != version:
                idx = self._load_cached(brand, version)
                if idx is None:
                    idx = self._build(brand, version, stored_analyzer)
                    self._save_cached(brand, idx)
                st = _BrandState(idx, None, stored_analyzer)
            st.calibration = FusionCalibration.parse(meta.get("fusion"))
            st.analyzer = stored_analyzer
            self._brands[brand] = st
            return st

    def _build(self, brand: str, version: str, stored_analyzer: str) -> BrandIndex:
        if stored_analyzer == self.analyzer.version:
            return build_brand_index(list(self.store.iter_lexical(brand)), version)
        if self.store.count(brand):
            log.warning("brand %r was indexed with analyzer %r, this process uses %r: re-tokenising its "
                        "texts in memory; `copilot ingest` for the brand migrates the index", brand,
                        stored_analyzer or "unversioned", self.analyzer.version)
        rows = [(c.id, " ".join(self.analyzer(lexical_text(c)))) for c in self.store.iter_chunks(brand)]
        return build_brand_index(rows, version)

    def lexical(self, brand: str) -> BrandIndex:
        return self._state(brand).index

    def calibration(self, brand: str) -> FusionCalibration | None:
        return self._state(brand).calibration

    def weight(self, brand: str, language: str) -> SignalWeight:
        cal = self._state(brand).calibration
        return cal.weight(language) if cal is not None else prior(language)

    def explain(self, query: str, *, brand: str) -> SearchExplanation:
        st = self._state(brand)
        language = detect_language(query)
        return SearchExplanation(brand=brand, language=language, terms=self.analyzer(query),
                                 analyzer=self.analyzer.version, index_analyzer=st.analyzer,
                                 weight=self.weight(brand, language), calibration=st.calibration)

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

        st = self._state(brand)
        share = self.weight(brand, detect_language(query)).dense
        qvec = self.embedder.embed_query(query) if vector is None else vector
        dense = self.store.query(brand, qvec, pool, where)
        chunks: dict[str, Chunk] = {c.id: c for c, _ in dense}
        dense_sim = {c.id: s for c, s in dense}
        dense_ids = list(dense_sim)

        scores = st.index.scores(self.analyzer(query))
        # A lexical list with no share only scores the dense candidates: no fetch of its own hits.
        lex = st.index.top(scores, pool) if share < 1.0 else []
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
        lex_score = st.index.lookup(scores, list(chunks))

        fused = fuse(chunks, dense_sim, lex_score, share)
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
            hits.append(Hit(chunk=chunk, score=fused[cid], dense=dense_sim.get(cid),
                            lexical=lex_score.get(cid) or None, dense_rank=d_rank.get(cid),
                            lexical_rank=l_rank.get(cid)))
            if len(hits) >= k:
                break
        return hits
