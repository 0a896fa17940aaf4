"""An on-disk embedding cache for the benchmarks: whole corpora are embedded once per model.

Keyed by (model name, query/passage side, SHA-256 of the text) in one SQLite file (default
``bench/out/embeddings.sqlite``, git-ignored), so a rerun, or a changed chunking that keeps most
texts, only embeds what is new. Several bench processes may share the file (SQLite locks).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from copilot.retrieval.embeddings import Embedder

__all__ = ["DEFAULT_CACHE", "CachedEmbedder"]

DEFAULT_CACHE = Path(__file__).resolve().parent / "out" / "embeddings.sqlite"


class CachedEmbedder:
    """Wraps an embedder; same name, dim and calibration, so indexes built through it are the model's."""

    def __init__(self, inner: Embedder, path: Path = DEFAULT_CACHE, *, queries: bool = True) -> None:
        """``queries=False``: queries are embedded live every time (latency benches)."""
        self.inner = inner
        self.cache_queries = queries
        self.name, self.dim, self.floor, self.ceiling = inner.name, inner.dim, inner.floor, inner.ceiling
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=60, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB)")
        self._db.commit()
        self.hits = self.misses = 0

    def _key(self, side: str, text: str) -> str:
        return hashlib.sha256(f"{self.name}\x00{side}\x00{text}".encode()).hexdigest()

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray[Any, Any]]:
        out: dict[str, np.ndarray[Any, Any]] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            rows = self._db.execute(f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})", part)
            out.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return out

    def _cached(self, side: str, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        keys = [self._key(side, t) for t in texts]
        found = self._lookup(list(dict.fromkeys(keys)))
        todo = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        batch_queries = getattr(self.inner, "embed_queries", None)
        for i in range(0, len(todo), 256):  # committed as it goes: an interrupted run keeps its work
            part = todo[i : i + 256]
            if side == "q" and batch_queries is not None:
                vecs = batch_queries(part)
            elif side == "q":
                vecs = np.stack([self.inner.embed_query(t) for t in part])
            else:
                vecs = self.inner.embed_documents(part)
            rows = [(self._key(side, t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(part, vecs, strict=True)]
            self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)", rows)
            self._db.commit()
            found.update({k: np.frombuffer(b, dtype=np.float32) for k, b in rows})
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        return self._cached("d", texts)

    def embed_query(self, text: str) -> np.ndarray[Any, Any]:
        if not self.cache_queries:
            return self.inner.embed_query(text)
        out: np.ndarray[Any, Any] = self._cached("q", [text])[0]
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        return self._cached("q", texts)
