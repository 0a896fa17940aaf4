"""The store contract, run against every way of holding the index: in memory, the persistent local
store, and a `chroma run` server. Ingest and search rely on exactly these behaviours."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from copilot.models import Chunk
from copilot.retrieval.embeddings import HashEmbedder
from copilot.retrieval.store import ChromaStore

E = HashEmbedder()


def chunk(source: str, brand: str, text: str, i: int = 0, n: int = 1, h: str = "h1") -> Chunk:
    return Chunk(id=f"{source}#{i}", source_id=source, kind="ticket" if source.startswith("ticket:") else "article",
                 text=text, title=text[:20], brand=brand, locale="en", tags=["t"], actions=["refund"],
                 replies=["a reply"], chunk_index=i, n_chunks=n, source_hash=h)


CHUNKS = [chunk("article:refunds", "acme", "refunds take five business days"),
          chunk("article:shipping", "acme", "shipping takes three days", h="h2"),
          chunk("ticket:T1", "acme", "where is my refund for the chair"),
          chunk("article:refunds", "globex", "globex refunds take thirty days")]


class StoreContract:
    def make(self, tmp_path: Path) -> ChromaStore:
        raise NotImplementedError

    def filled(self, tmp_path: Path) -> ChromaStore:
        store = self.make(tmp_path)
        store.upsert(CHUNKS, E.embed_documents([c.text for c in CHUNKS]), [c.text for c in CHUNKS])
        return store

    def test_query_returns_the_brands_nearest_chunks_with_their_metadata(self, tmp_path: Path) -> None:
        store = self.filled(tmp_path)
        hits = store.query("acme", E.embed_query("refunds take five business days"), 3)
        assert hits[0][0].source_id == "article:refunds" and hits[0][0].brand == "acme"
        assert 0.99 <= hits[0][1] <= 1.0001 and hits[0][1] >= hits[-1][1]
        assert hits[0][0] == CHUNKS[0]  # every field survives the round trip

    def test_brands_are_isolated(self, tmp_path: Path) -> None:
        store = self.filled(tmp_path)
        assert {"acme", "globex"} <= set(store.brands())
        assert [c.brand for c, _ in store.query("globex", E.embed_query("refunds"), 10)] == ["globex"]
        assert store.count("acme") == 3 and store.count("globex") == 1

    def test_get_by_id_with_vectors(self, tmp_path: Path) -> None:
        store = self.filled(tmp_path)
        got = store.get("acme", ["ticket:T1#0", "article:nope#0"], with_vectors=True)
        assert set(got) == {"ticket:T1#0"}
        c, vec = got["ticket:T1#0"]
        assert c.replies == ["a reply"] and np.allclose(vec, E.embed_documents([c.text])[0], atol=1e-5)

    def test_hashes_sources_and_deletes(self, tmp_path: Path) -> None:
        store = self.filled(tmp_path)
        assert store.source_hashes("acme", ["article:refunds", "article:shipping", "article:new"]) == {
            "article:refunds": ("h1", 1), "article:shipping": ("h2", 1)}
        assert sorted(store.sources("acme")) == ["article:refunds", "article:shipping", "ticket:T1"]
        store.delete_sources("acme", ["article:shipping"])
        assert sorted(store.sources("acme")) == ["article:refunds", "ticket:T1"]
        assert store.sources("globex") == ["article:refunds"]  # the other brand's same id is untouched

    def test_lexical_rows_and_a_version_that_changes_on_bump(self, tmp_path: Path) -> None:
        store = self.filled(tmp_path)
        rows = dict(store.iter_lexical("acme"))
        assert rows["ticket:T1#0"] == "where is my refund for the chair" and len(rows) == 3
        before = store.version("acme")
        after = store.bump_version("acme")
        assert after != before and store.version("acme") == after

    def test_an_unknown_brand_is_empty_not_an_error(self, tmp_path: Path) -> None:
        store = self.make(tmp_path)
        assert store.query("nobody", E.embed_query("x"), 5) == [] and store.sources("nobody") == []
        assert store.get("nobody", ["a#0"]) == {} and store.count("nobody") == 0 and store.version("nobody") == ""
        store.delete_sources("nobody", ["article:x"])  # nothing to delete is fine


class TestInMemoryStore(StoreContract):
    def make(self, tmp_path: Path) -> ChromaStore:
        # In-memory clients share one process-wide system: a fresh collection name keeps tests apart.
        return ChromaStore(data_dir=None, collection=f"t{uuid.uuid4().hex[:8]}", embedder_name=E.name, dim=E.dim)


@pytest.mark.integration
class TestPersistentStore(StoreContract):
    def make(self, tmp_path: Path) -> ChromaStore:
        return ChromaStore(data_dir=tmp_path, collection="copilot", embedder_name=E.name, dim=E.dim)

    def test_it_survives_a_new_client(self, tmp_path: Path) -> None:
        self.filled(tmp_path)
        assert self.make(tmp_path).count("acme") == 3


@pytest.mark.integration
class TestChromaServerStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _server(self, chroma_server: int) -> None:
        self.port = chroma_server

    def make(self, tmp_path: Path) -> ChromaStore:
        return ChromaStore(data_dir=None, collection=f"t{uuid.uuid4().hex[:8]}", embedder_name=E.name, dim=E.dim,
                           host="127.0.0.1", port=self.port)
