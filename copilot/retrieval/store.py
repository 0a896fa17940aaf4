"""Chroma store: the persistent local client by default, a Chroma server by settings alone.

We talk to the chromadb client directly rather than through langchain-chroma:
ingestion needs batch upserts with precomputed vectors, look-ups of content
hashes by id, deletes by metadata and paging through every record to rebuild
the lexical index; those are one call each here and awkward through a
VectorStore. Query results (column lists) become our own types right here.
"""

from __future__ import annotations

import json
import re
import uuid
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
        "actions": json.dumps(chunk.actions, ensure_ascii=False), "replies": json.dumps(chunk.replies, ensure_ascii=False),
        "chunk_index": chunk.chunk_index, "n_chunks": chunk.n_chunks, "source_hash": chunk.source_hash,
        "lex": lex,
    }


def _chunk(cid: str, doc: str | None, meta: Any) -> Chunk:
    m = dict(meta or {})
    return Chunk(
        id=cid, source_id=str(m.get("source_id", "")), kind=m.get("kind", "article"), text=doc or "",
        title=str(m.get("title", "")), brand=str(m.get("brand", "")), locale=str(m.get("locale", "")),
        url=str(m.get("url", "")), tags=json.loads(str(m.get("tags") or "[]")),
        actions=json.loads(str(m.get("actions") or "[]")), replies=json.loads(str(m.get("replies") or "[]")),
        chunk_index=int(m.get("chunk_index", 0)), n_chunks=int(m.get("n_chunks", 1)),
        source_hash=str(m.get("source_hash", "")),
    )


class ChromaStore:
    def __init__(self, *, data_dir: Path, collection: str, embedder_name: str, dim: int,
                 host: str | None = None, port: int = 8000, ssl: bool = False) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if host:
                self.client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
                self.location = f"{'https' if ssl else 'http'}://{host}:{port}"
            else:
                path = data_dir / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                self.location = str(path)
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma store at {host or data_dir}: {exc}",
                             hint="check COPILOT_CHROMA_HOST/PORT, or that the data dir is writable") from exc
        # One collection per embedding model: vectors of different models never mix.
        slug = re.sub(r"[^a-zA-Z0-9_-]", "-", embedder_name)[:40]
        self.name = f"{collection}--{slug}"[:63]
        try:
            self.col = self.client.get_or_create_collection(
                self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": embedder_name, "dim": dim, "lexical_version": "empty"},
            )
        except Exception as exc:
            raise StoreError(f"cannot open collection {self.name} at {self.location}: {exc}") from exc
        meta = self.col.metadata or {}
        if meta.get("dim") not in (None, dim):
            raise ConfigError(f"collection {self.name} holds {meta.get('dim')}-d vectors, the embedder makes {dim}",
                              hint="use the embedder the index was built with, or a new data dir")

    # --- writes ---------------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray[Any, Any], lex: Sequence[str]) -> None:
        if not chunks:
            return
        self.col.upsert(
            ids=[c.id for c in chunks], embeddings=vectors, documents=[c.text for c in chunks],
            metadatas=[_meta(c, t) for c, t in zip(chunks, lex, strict=True)],
        )

    def delete_sources(self, source_ids: Sequence[str]) -> None:
        for i in range(0, len(source_ids), 500):
            where: dict[str, Any] = {"source_id": {"$in": list(source_ids[i : i + 500])}}
            self.col.delete(where=where)

    def bump_version(self) -> str:
        version = uuid.uuid4().hex
        meta = {k: v for k, v in (self.col.metadata or {}).items() if not k.startswith("hnsw:")}
        meta["lexical_version"] = version
        self.col.modify(metadata=meta)
        return version

    # --- reads ----------------------------------------------------------------------------------

    def version(self) -> str:
        col = self.client.get_collection(self.name, embedding_function=None)
        return str((col.metadata or {}).get("lexical_version", ""))

    def count(self) -> int:
        return int(self.col.count())

    def source_hashes(self, source_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """source id -> (content hash, number of chunks) for those already stored."""
        out: dict[str, tuple[str, int]] = {}
        for i in range(0, len(source_ids), 1000):
            part = [f"{sid}#0" for sid in source_ids[i : i + 1000]]
            res = self.col.get(ids=part, include=["metadatas"])
            for meta in res["metadatas"] or []:
                n_chunks = meta.get("n_chunks", 1)
                out[str(meta["source_id"])] = (str(meta["source_hash"]), n_chunks if isinstance(n_chunks, int) else 1)
        return out

    def sources(self, brand: str | None = None) -> dict[str, str]:
        """Every stored source id -> brand (optionally of one brand)."""
        where: dict[str, Any] = {"chunk_index": 0}
        if brand:
            where = {"$and": [where, {"brand": brand}]}
        out: dict[str, str] = {}
        offset = 0
        while True:
            res = self.col.get(where=where, include=["metadatas"], limit=_PAGE, offset=offset)  # type: ignore[arg-type]
            for meta in res["metadatas"] or []:
                out[str(meta["source_id"])] = str(meta.get("brand", ""))
            if len(res["ids"]) < _PAGE:
                return out
            offset += _PAGE

    def iter_lexical(self) -> Iterator[tuple[str, str, str]]:
        offset = 0
        while True:
            res = self.col.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for cid, meta in zip(res["ids"], res["metadatas"] or [], strict=True):
                yield cid, str(meta.get("brand", "")), str(meta.get("lex", ""))
            if len(res["ids"]) < _PAGE:
                return
            offset += _PAGE

    def get(self, ids: Sequence[str], *, with_vectors: bool = False) -> dict[str, tuple[Chunk, Any]]:
        if not ids:
            return {}
        include: list[Any] = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        res = self.col.get(ids=list(ids), include=include)
        vecs = res.get("embeddings") if with_vectors else None
        out = {}
        for j, cid in enumerate(res["ids"]):
            docs, metas = res["documents"] or [], res["metadatas"] or []
            out[cid] = (_chunk(cid, docs[j], metas[j]), None if vecs is None else np.asarray(vecs[j]))
        return out

    def query(self, vector: np.ndarray[Any, Any], n: int, where: dict[str, Any]) -> list[tuple[Chunk, float]]:
        """Nearest chunks as (chunk, cosine similarity)."""
        try:
            res = self.col.query(query_embeddings=[vector], n_results=n, where=where,  # type: ignore[arg-type]
                                 include=["documents", "metadatas", "distances"])
        except Exception as exc:
            raise StoreError(f"vector query failed: {exc}") from exc
        ids = res["ids"][0]
        docs = (res["documents"] or [[]])[0]
        metas = (res["metadatas"] or [[]])[0]
        dists = (res["distances"] or [[]])[0]
        return [(_chunk(cid, docs[j], metas[j]), 1.0 - float(dists[j])) for j, cid in enumerate(ids)]
