"""Chroma store: the persistent local client by default, a Chroma server by settings alone.

One collection per (embedding model, brand). Brand isolation is then structural,
and a query needs no metadata filter: measured on 34k chunks, a ``where`` on
brand made each vector query ~30x slower (7 ms -> 200 ms) because Chroma
pre-filters through its metadata index.

We talk to the chromadb client directly rather than through langchain-chroma:
ingestion needs batch upserts with precomputed vectors, look-ups of content
hashes by id, deletes by metadata and paging through every record to rebuild
the lexical index; those are one call each here and awkward through a
VectorStore. Query results (column lists) become our own types right here.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from copilot.errors import ConfigError, StoreError
from copilot.models import Chunk

__all__ = ["ChromaStore"]

_PAGE = 2000


def _meta(chunk: Chunk, lex: str) -> dict[str, Any]:
    return {
        "source_id": chunk.source_id, "kind": chunk.kind, "title": chunk.title, "brand": chunk.brand,
        "locale": chunk.locale, "url": chunk.url, "tags": json.dumps(chunk.tags, ensure_ascii=False),
        "actions": json.dumps(chunk.actions, ensure_ascii=False),
        "replies": json.dumps(chunk.replies, ensure_ascii=False),
        "chunk_index": chunk.chunk_index, "n_chunks": chunk.n_chunks, "source_hash": chunk.source_hash,
        "lex": lex, "channel": chunk.channel, "audience": chunk.audience,
    }


def _chunk(cid: str, doc: str | None, meta: Any) -> Chunk:
    m = dict(meta or {})
    return Chunk(
        id=cid, source_id=str(m.get("source_id", "")), kind=m.get("kind", "article"), text=doc or "",
        title=str(m.get("title", "")), brand=str(m.get("brand", "")), locale=str(m.get("locale", "")),
        url=str(m.get("url", "")), tags=json.loads(str(m.get("tags") or "[]")),
        actions=json.loads(str(m.get("actions") or "[]")), replies=json.loads(str(m.get("replies") or "[]")),
        chunk_index=int(m.get("chunk_index", 0)), n_chunks=int(m.get("n_chunks", 1)),
        source_hash=str(m.get("source_hash", "")), channel=str(m.get("channel", "")),
        # Indexes written before the field existed hold customer articles only.
        audience="agent" if m.get("audience") == "agent" else "customer",
    )


def _slug(text: str, size: int) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "-", text)[:size].strip("-_") or "x"


class ChromaStore:
    def __init__(self, *, data_dir: Path | None, collection: str, embedder_name: str, dim: int,
                 host: str | None = None, port: int = 8000, ssl: bool = False) -> None:
        """A Chroma server at ``host``, else the persistent store under ``data_dir``, else (neither) an
        in-memory store that lives as long as the process (tests, throwaway evaluations)."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if data_dir is None and not host:
                self.client = chromadb.EphemeralClient(settings=chroma_settings)
                self.location = "memory"
            elif host:
                self.client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
                self.location = f"{'https' if ssl else 'http'}://{host}:{port}"
            else:
                assert data_dir is not None
                path = data_dir / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                self.location = str(path)
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma store at {host or data_dir}: {exc}",
                             hint="check COPILOT_CHROMA_HOST/PORT, or that the data dir is writable") from exc
        self.embedder_name = embedder_name
        self.dim = dim
        # Vectors of different models never share a collection.
        self.prefix = f"{_slug(collection, 20)}--{_slug(embedder_name, 24)}--"
        self._cols: dict[str, Any] = {}

    # --- collections ----------------------------------------------------------------------------

    def collection_name(self, brand: str) -> str:
        return self._name(brand)

    def _name(self, brand: str) -> str:
        digest = hashlib.sha1(brand.encode()).hexdigest()[:8]
        return f"{self.prefix}{_slug(brand, 20)}-{digest}"

    def _col(self, brand: str, *, create: bool, analyzer: str = "") -> Any | None:
        if brand in self._cols:
            return self._cols[brand]
        name = self._name(brand)
        try:
            if create:
                col = self.client.get_or_create_collection(
                    name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                    metadata={"brand": brand, "embedder": self.embedder_name, "dim": self.dim,
                              "lexical_version": "new", "analyzer": analyzer},
                )
            else:
                col = self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            msg = str(exc).lower()
            if not create and (type(exc).__name__ == "NotFoundError" or "does not exist" in msg):
                return None
            raise StoreError(f"cannot open collection {name} at {self.location}: {exc}") from exc
        dim = (col.metadata or {}).get("dim")
        if dim not in (None, self.dim):
            raise ConfigError(f"collection {name} holds {dim}-d vectors, the embedder makes {self.dim}",
                              hint="use the embedder the index was built with, or a new data dir")
        self._cols[brand] = col
        return col

    def brands(self) -> list[str]:
        out = []
        for col in self.client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith(self.prefix):
                c = self.client.get_collection(name, embedding_function=None)
                out.append(str((c.metadata or {}).get("brand", "")))
        return sorted(out)

    def collection(self, brand: str) -> Any | None:
        """The brand's Chroma collection (None when the brand has nothing indexed)."""
        return self._col(brand, create=False)

    # --- writes ---------------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray[Any, Any], lex: Sequence[str], *,
               analyzer: str = "") -> None:
        """Write chunks with their vectors and BM25 terms; ``analyzer`` names what made the terms
        (recorded when this creates the brand's collection)."""
        by_brand: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(chunks):
            by_brand[c.brand].append(i)
        for brand, idx in by_brand.items():
            col = self._col(brand, create=True, analyzer=analyzer)
            assert col is not None
            col.upsert(
                ids=[chunks[i].id for i in idx], embeddings=vectors[idx], documents=[chunks[i].text for i in idx],
                metadatas=[_meta(chunks[i], lex[i]) for i in idx],
            )

    def delete_sources(self, brand: str, source_ids: Sequence[str]) -> None:
        col = self._col(brand, create=False)
        if col is None:
            return
        for i in range(0, len(source_ids), 500):
            where: dict[str, Any] = {"source_id": {"$in": list(source_ids[i : i + 500])}}
            col.delete(where=where)

    def bump_version(self, brand: str, *, analyzer: str | None = None, fusion: str | None = None) -> str:
        """Publish the brand's new state: a new lexical version, so every process rebuilds its BM25
        for it, with the analyzer its terms were made with and the fusion calibration, all in one
        metadata write. Chroma has no transactions across records; this one write is the commit point
        readers follow, so a replica never pairs new weights with an old index or the reverse."""
        col = self._col(brand, create=True)
        assert col is not None
        version = uuid.uuid4().hex
        meta = {k: v for k, v in self.state(brand).items() if not k.startswith("hnsw:")}
        meta["lexical_version"] = version
        if analyzer is not None:
            meta["analyzer"] = analyzer
        if fusion is not None:
            meta["fusion"] = fusion
        col.modify(metadata=meta)
        return version

    def set_lexical(self, brand: str, rows: Sequence[tuple[str, str]]) -> None:
        """Replace the stored BM25 terms of these chunks (an analyzer migration: nothing is re-embedded)."""
        col = self._col(brand, create=False)
        if col is None:
            return
        for i in range(0, len(rows), _PAGE):
            part = rows[i : i + _PAGE]
            col.update(ids=[cid for cid, _ in part], metadatas=[{"lex": lex} for _, lex in part])

    # --- reads ----------------------------------------------------------------------------------

    def state(self, brand: str) -> dict[str, Any]:
        """The brand collection's metadata as stored now (lexical version, analyzer, fusion
        calibration), read fresh: another process may have published since."""
        try:
            col = self.client.get_collection(self._name(brand), embedding_function=None)
        except Exception:
            return {}
        return dict(col.metadata or {})

    def version(self, brand: str) -> str:
        return str(self.state(brand).get("lexical_version", ""))

    def ids(self, brand: str) -> list[str]:
        """Every chunk id of a brand."""
        col = self._col(brand, create=False)
        if col is None:
            return []
        return [cid for res in self._pages(col, include=[]) for cid in res["ids"]]

    def count(self, brand: str | None = None) -> int:
        brands = [brand] if brand is not None else self.brands()
        total = 0
        for b in brands:
            col = self._col(b, create=False)
            total += int(col.count()) if col is not None else 0
        return total

    def source_hashes(self, brand: str, source_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """source id -> (content hash, number of chunks) for those already stored."""
        col = self._col(brand, create=False)
        out: dict[str, tuple[str, int]] = {}
        if col is None:
            return out
        for i in range(0, len(source_ids), 1000):
            part = [f"{sid}#0" for sid in source_ids[i : i + 1000]]
            res = col.get(ids=part, include=["metadatas"])
            for meta in res["metadatas"] or []:
                n_chunks = meta.get("n_chunks", 1)
                out[str(meta["source_id"])] = (str(meta["source_hash"]), n_chunks if isinstance(n_chunks, int) else 1)
        return out

    def _pages(self, col: Any, **kw: Any) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            res = col.get(limit=_PAGE, offset=offset, **kw)
            yield res
            if len(res["ids"]) < _PAGE:
                return
            offset += _PAGE

    def sources(self, brand: str) -> list[str]:
        """Every stored source id of a brand."""
        col = self._col(brand, create=False)
        if col is None:
            return []
        out: list[str] = []
        for res in self._pages(col, where={"chunk_index": 0}, include=["metadatas"]):
            out.extend(str(m["source_id"]) for m in res["metadatas"] or [])
        return out

    def iter_chunks(self, brand: str) -> Iterator[Chunk]:
        """Every chunk of a brand, with its text (to re-tokenise an index made by another analyzer)."""
        col = self._col(brand, create=False)
        if col is None:
            return
        for res in self._pages(col, include=["documents", "metadatas"]):
            for cid, doc, meta in zip(res["ids"], res["documents"] or [], res["metadatas"] or [], strict=True):
                yield _chunk(cid, doc, meta)

    def article_urls(self, brand: str) -> set[str]:
        """The URLs of a brand's articles: the domains a brand's replies may link to are learned from
        them, and every replica reads the same ones from the index."""
        col = self._col(brand, create=False)
        if col is None:
            return set()
        where = {"$and": [{"kind": "article"}, {"chunk_index": 0}]}
        return {str(m.get("url")) for res in self._pages(col, where=where, include=["metadatas"])
                for m in res["metadatas"] or [] if m.get("url")}

    def iter_lexical(self, brand: str) -> Iterator[tuple[str, str]]:
        """(chunk id, space-joined lexical tokens) for every chunk of a brand."""
        col = self._col(brand, create=False)
        if col is None:
            return
        for res in self._pages(col, include=["metadatas"]):
            for cid, meta in zip(res["ids"], res["metadatas"] or [], strict=True):
                yield cid, str(meta.get("lex", ""))

    def get(self, brand: str, ids: Sequence[str], *, with_vectors: bool = False) -> dict[str, tuple[Chunk, Any]]:
        col = self._col(brand, create=False)
        if not ids or col is None:
            return {}
        include: list[Any] = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        res = col.get(ids=list(ids), include=include)
        vecs = res.get("embeddings") if with_vectors else None
        docs, metas = res["documents"] or [], res["metadatas"] or []
        return {cid: (_chunk(cid, docs[j], metas[j]), None if vecs is None else np.asarray(vecs[j]))
                for j, cid in enumerate(res["ids"])}

    def query(self, brand: str, vector: np.ndarray[Any, Any], n: int,
              where: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        """Nearest chunks of one brand as (chunk, cosine similarity)."""
        col = self._col(brand, create=False)
        if col is None:
            return []
        try:
            res = col.query(query_embeddings=[vector], n_results=n, where=where,
                            include=["documents", "metadatas", "distances"])
        except Exception as exc:
            raise StoreError(f"vector query failed: {exc}") from exc
        ids = res["ids"][0]
        docs = (res["documents"] or [[]])[0]
        metas = (res["metadatas"] or [[]])[0]
        dists = (res["distances"] or [[]])[0]
        return [(_chunk(cid, docs[j], metas[j]), 1.0 - float(dists[j])) for j, cid in enumerate(ids)]

    # --- what ingest learns about a brand (its voice, its calibration) ------------------------

    def brand_state(self, brand: str) -> dict[str, Any]:
        """The brand collection's metadata as stored now (another process may have written since)."""
        try:
            col = self.client.get_collection(self._name(brand), embedding_function=None)
        except Exception:
            return {}
        return dict(col.metadata or {})

    def publish(self, brand: str, values: dict[str, str]) -> None:
        """Store values with the brand's collection, next to what is there: every replica reads them."""
        col = self._col(brand, create=False)
        if col is None:
            return
        meta = {k: v for k, v in self.brand_state(brand).items() if not k.startswith("hnsw:")}
        meta.update(values)
        col.modify(metadata=meta)

    def resolved_tickets(self, brand: str) -> Iterator[Chunk]:
        """Every stored ticket of a brand (its problem, the agent's replies), without vectors."""
        col = self._col(brand, create=False)
        if col is None:
            return
        for res in self._pages(col, where={"kind": "ticket"}, include=["documents", "metadatas"]):
            for cid, doc, meta in zip(res["ids"], res["documents"] or [], res["metadatas"] or [], strict=True):
                yield _chunk(cid, doc, meta)
