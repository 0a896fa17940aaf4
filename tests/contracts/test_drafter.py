"""The drafter contract, run against the fake drafter the tests use and every real drafter: the
embedded one and the LLM chain (over a fake chat model). The application layer relies on exactly this:
a body without the brand frame, a declared language, citations of the request's sources, a prompt
version, and ``DraftFailed`` (nothing else) when no draft can be made; concurrent drafts are safe."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from copilot.brand import BrandProfile, voice_frame
from copilot.drafting.base import Draft, Drafter, DraftFailed, DraftRequest
from copilot.drafting.embedded import EmbeddedDrafter, citation_for
from copilot.drafting.llm import LLMDrafter
from copilot.guardrails import screen
from copilot.models import Chunk, Hit, Message, Ticket
from copilot.retrieval.embeddings import HashEmbedder

E = HashEmbedder()
QUESTION = "Where is my refund? I returned the chair two weeks ago."
SOURCES = [
    Hit(chunk=Chunk(id="ticket:T1#0", source_id="ticket:T1", kind="ticket", brand="acme", locale="en",
                    text="Where is my refund? I returned a lamp.",
                    replies=["We issue the refund within 2 business days after the return reaches our warehouse."]),
        score=0.05, dense=E.embed_query("Where is my refund").dot(E.embed_documents(["Where is my refund? I returned a lamp."])[0])),
    Hit(chunk=Chunk(id="article:refunds#0", source_id="article:refunds", kind="article", brand="acme", locale="en",
                    title="Refund timing", url="https://help.acme.example/refunds",
                    text="Refund timing\nWe issue the refund within 2 business days. Banks take 5 to 7 days."),
        score=0.04, dense=0.9),
]


def request(text: str = QUESTION, hits: list[Hit] | None = None) -> DraftRequest:
    return DraftRequest(ticket=Ticket(messages=[Message(author="customer", body=text)]), query=text, language="en",
                        brand="acme", profile=BrandProfile(name="Acme"), hits=SOURCES if hits is None else hits,
                        screening=screen(text))


class QuotingDrafter:
    """The fake drafter of the tests: it quotes the first source."""

    name = "fake:quote"
    prompt_text = ""

    def draft(self, request: DraftRequest, on_partial: Callable[[str], None] | None = None) -> Draft:
        if not request.hits:
            raise DraftFailed("nothing to quote")
        top = request.hits[0]
        body = (top.chunk.replies or [top.chunk.text])[0]
        return Draft(body=body, language=request.language, citations=[citation_for(top, body)], confidence=0.5,
                     prompt_version="fake/v1")


class DrafterContract:
    def make(self) -> Drafter:
        raise NotImplementedError

    def test_it_is_a_drafter(self) -> None:
        d = self.make()
        assert isinstance(d, Drafter) and d.name and isinstance(d.prompt_text, str)

    def test_a_body_without_the_frame_citing_only_the_requests_sources(self) -> None:
        out = self.make().draft(request())
        frame = voice_frame(BrandProfile(name="Acme"), "acme", "en")
        assert out.body.strip() and not out.body.startswith(frame.greeting) and frame.sign_off not in out.body
        assert out.language == "en" and 0.0 <= out.confidence <= 1.0 and out.prompt_version
        assert {c.source_id for c in out.citations} <= {h.source_id for h in SOURCES}

    def test_no_evidence_is_an_honest_draft_or_a_draft_failure(self) -> None:
        try:
            out = self.make().draft(request("Do you sell hydrogen bicycles?", hits=[]))
        except DraftFailed:
            return
        assert out.body.strip() and out.citations == [] and out.confidence <= 0.3

    def test_concurrent_drafts_are_independent(self) -> None:
        d = self.make()
        with ThreadPoolExecutor(8) as pool:
            outs = list(pool.map(lambda _: d.draft(request()), range(16)))
        assert len({o.body for o in outs}) == 1


class TestQuotingDrafter(DrafterContract):
    def make(self) -> Drafter:
        return QuotingDrafter()


class TestEmbeddedDrafter(DrafterContract):
    def make(self) -> Drafter:
        return EmbeddedDrafter(E)


class TestLLMDrafter(DrafterContract):
    def make(self) -> Drafter:
        answer = json.dumps({"reply": "We issue the refund within 2 business days.",
                             "cited_source_ids": ["article:refunds"], "confidence": 0.2})
        return LLMDrafter(FakeListChatModel(responses=[answer] * 40), name="fake-llm", method="json_object")

    def test_model_failures_are_draft_failures(self) -> None:
        class Down(FakeListChatModel):
            def _call(self, *args: Any, **kwargs: Any) -> str:
                raise TimeoutError("request timed out")

        with pytest.raises(DraftFailed, match="TimeoutError"):
            LLMDrafter(Down(responses=[]), name="down").draft(request())
        with pytest.raises(DraftFailed):
            LLMDrafter(FakeListChatModel(responses=["not json", "still not"]), name="bad").draft(request())
