"""The Copilot facade: the only thing integrations and the CLI call."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from copilot.actions import ActionRanker
from copilot.config import CopilotConfig, load_config
from copilot.drafting.base import Drafter, DraftRequest
from copilot.drafting.embedded import EmbeddedDrafter
from copilot.drafting.rewrite import Rewriter
from copilot.errors import ConfigError, InputError
from copilot.grounding import GroundingChecker
from copilot.guardrails import screen
from copilot.language import detect_language
from copilot.models import Article, Hit, Message, SourceKind, StreamEvent, Suggestion, Ticket
from copilot.pii import redact
from copilot.retrieval.embeddings import Embedder, make_embedder
from copilot.retrieval.ingest import Ingestor, IngestSummary
from copilot.retrieval.search import HybridSearcher
from copilot.retrieval.store import ChromaStore
from copilot.settings import Settings
from copilot.signals import EscalationClassifier

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

__all__ = ["Copilot"]


class Copilot:
    """Ingest sources, search them, and suggest replies with next-best actions.

    Heavy parts (the embedding model, the store, the lexical index) are built
    on first use and then kept: a warm process answers in milliseconds.
    """

    def __init__(self, settings: Settings | None = None, *, config: CopilotConfig | None = None,
                 embedder: Embedder | None = None, drafter: Drafter | None = None,
                 callbacks: list[Any] | None = None) -> None:
        self.callbacks = callbacks or []
        self.settings = settings or Settings()
        self.config = config if config is not None else load_config(self.settings.config)
        self._embedder = embedder
        self._drafter = drafter

    # --- parts ---------------------------------------------------------------------------------

    @cached_property
    def embedder(self) -> Embedder:
        if self._embedder is not None:
            return self._embedder
        key = self.settings.openai_api_key
        return make_embedder(self.settings.embedder, openai_api_key=key.get_secret_value() if key else None,
                             base_url=self.settings.llm_base_url)

    @cached_property
    def store(self) -> ChromaStore:
        s = self.settings
        return ChromaStore(data_dir=s.data_dir, collection=s.collection, embedder_name=self.embedder.name,
                           dim=self.embedder.dim, host=s.chroma_host, port=s.chroma_port, ssl=s.chroma_ssl)

    @cached_property
    def searcher(self) -> HybridSearcher:
        return HybridSearcher(self.store, self.embedder, cache_dir=self.settings.data_dir / "lexical")

    @cached_property
    def drafter(self) -> Drafter:
        if self._drafter is not None:
            return self._drafter
        embedded = EmbeddedDrafter(self.embedder)
        if not self.settings.llm_model:
            return embedded
        return self._llm_drafter(embedded)

    @cached_property
    def rewriter(self) -> Rewriter:
        from copilot.drafting.llm import LLMDrafter

        d = self.drafter
        # Reuse the drafter's own embedded drafter (templates, calibration) rather than a second one.
        if isinstance(d, LLMDrafter):
            return Rewriter(d.fallback, chat_model=d.chat_model)
        return Rewriter(d if isinstance(d, EmbeddedDrafter) else EmbeddedDrafter(self.embedder))

    def rewrite(self, suggestion: Suggestion, instruction: str, *, language: str | None = None) -> Suggestion:
        """Rewrite a suggestion's reply: shorter, friendlier, more formal, translated, or free-text edits.

        ``language`` is the customer's language for "translate" (default: the suggestion's).
        """
        if not instruction.strip():
            raise InputError("the rewrite instruction is empty", hint='e.g. "shorter", "more formal", "translate"')
        t0 = time.perf_counter()
        brand = suggestion.brand or self.default_brand()
        reply, lang, flags = self.rewriter.rewrite(
            suggestion.reply, instruction, language=suggestion.language, target_language=language or
            suggestion.language, brand=brand, profile=self.config.brand(brand),
            sources=[c.snippet for c in suggestion.citations])
        return suggestion.model_copy(update={
            "id": uuid.uuid4().hex, "reply": reply, "language": lang,
            "flags": list(dict.fromkeys([*suggestion.flags, *flags])),
            "latency_ms": round((time.perf_counter() - t0) * 1000, 2),
        })

    def _llm_drafter(self, fallback: EmbeddedDrafter) -> Drafter:
        from copilot.drafting.judge import llm_judge
        from copilot.drafting.llm import LLMDrafter

        s = self.settings
        from langchain_openai import ChatOpenAI

        if s.openai_api_key is None and not s.llm_base_url:
            raise ConfigError("COPILOT_LLM_MODEL is set but there is no OPENAI_API_KEY",
                              hint="set OPENAI_API_KEY, or COPILOT_LLM_BASE_URL for an OpenAI-compatible server")
        key = s.openai_api_key or SecretStr("not-needed")
        # OpenAI takes max_completion_tokens; several compatible servers (llama.cpp) only max_tokens.
        limit: dict[str, Any] = {"extra_body": {"max_tokens": s.llm_max_tokens}} if s.llm_base_url \
            else {"max_completion_tokens": s.llm_max_tokens}
        # max_retries: the openai client retries connection errors, 408/409/429 and 5xx with
        # exponential backoff (honouring Retry-After); the timeout bounds each attempt.
        chat = ChatOpenAI(model=s.llm_model or "", api_key=key, base_url=s.llm_base_url, timeout=s.llm_timeout_s,
                          max_retries=s.llm_max_retries, temperature=0.2, stream_usage=True, **limit)
        name = f"{'openai-compatible' if s.llm_base_url else 'openai'}:{s.llm_model}"
        judge = llm_judge(chat, callbacks=self.callbacks) if s.llm_judge_grounding else None
        return LLMDrafter(chat, fallback=fallback, name=name, method=s.llm_structured_output,
                          action_ids=[a.id for a in self.config.action_catalog()], callbacks=self.callbacks,
                          grounding=GroundingChecker(self.embedder, judge=judge))

    @cached_property
    def signals(self) -> EscalationClassifier:
        return EscalationClassifier.on(self.embedder, cache_dir=self.settings.data_dir / "signals")

    @cached_property
    def actions(self) -> ActionRanker:
        return ActionRanker(self.config.action_catalog(), self.embedder)

    def warm_up(self) -> None:
        """Load the model and every brand's lexical index now, not on the first customer's request."""
        # One query per tokenizer path: Chinese segmentation and language detection load lazily too.
        queries = ["where is my refund", "hoàn tiền", "退款什么时候到账"]
        for q in queries:
            detect_language(q)
            self.signals.classify(q)
        for brand in self.store.brands():
            for q in queries:
                hits = self.searcher.search(q, brand=brand, k=self.settings.top_k)
                self.actions.rank(q, hits, signals=[], has_order_number=False, no_evidence=False)
        _ = self.drafter

    def default_brand(self) -> str:
        return self.config.default_brand or self.settings.default_brand

    # --- operations ----------------------------------------------------------------------------

    def ingest(self, kb: Iterable[Path] = (), tickets: Iterable[Path] = (), *, brand: str | None = None,
               prune: bool = False, include_unresolved: bool = False, progress: bool | None = None,
               on_progress: Callable[[int, int], None] | None = None) -> IngestSummary:
        ingestor = Ingestor(self.store, self.embedder, default_brand=self.default_brand(),
                            known_actions={a.id for a in self.config.action_catalog()})
        summary = ingestor.ingest(kb, tickets, brand=brand, prune=prune, include_unresolved=include_unresolved,
                                  progress=progress, on_progress=on_progress)
        self.searcher.invalidate()
        return summary

    def ingest_records(self, articles: Iterable[Article] = (), tickets: Iterable[Ticket] = (), *,
                       brand: str | None = None) -> IngestSummary:
        ingestor = Ingestor(self.store, self.embedder, default_brand=self.default_brand(),
                            known_actions={a.id for a in self.config.action_catalog()})
        summary = ingestor.ingest_records(articles, tickets, brand=brand, progress=False)
        self.searcher.invalidate()
        return summary

    def search(self, query: str, *, brand: str | None = None, k: int | None = None,
               kinds: list[SourceKind] | None = None) -> list[Hit]:
        if not query.strip():
            raise InputError("the search query is empty", hint="pass some text to search for")
        return self.searcher.search(redact(query).text, brand=brand or self.default_brand(),
                                    k=k or self.settings.top_k, kinds=kinds)

    def stream(self, ticket: Ticket | str, *, brand: str | None = None) -> Iterator[StreamEvent]:
        """Suggest, yielding the reply text as the model writes it, then the checked suggestion.

        ``partial`` events carry the whole reply so far (replace, do not append: placeholders and
        markup settle as it grows). The last event is ``suggestion``; its reply is what may be sent,
        since checks can still remove sentences. Input errors are raised before the first event.
        """
        if isinstance(ticket, str):
            ticket = Ticket(messages=[Message(author="customer", body=ticket)])
        self._require_customer_text(ticket)
        events: queue.Queue[StreamEvent | BaseException] = queue.Queue()

        def work() -> None:
            try:
                s = self.suggest(ticket, brand=brand,
                                 on_partial=lambda text: events.put(StreamEvent(type="partial", text=text)))
                events.put(StreamEvent(type="suggestion", text=s.reply, suggestion=s))
            except BaseException as exc:  # re-raised in the caller's thread
                events.put(exc)

        worker = threading.Thread(target=work, name="copilot-stream", daemon=True)
        worker.start()
        while True:
            item = events.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if item.type == "suggestion":
                break
        worker.join()

    @cached_property
    def runnable(self) -> Runnable[Ticket | str, Suggestion]:
        """The whole pipeline as a LangChain runnable (``invoke``, ``batch``, ``astream_events``,
        callbacks): ticket in, Suggestion out."""
        from langchain_core.runnables import RunnableLambda

        return RunnableLambda(lambda t: self.suggest(t), name="copilot.suggest")

    @staticmethod
    def _require_customer_text(ticket: Ticket) -> str:
        raw = ticket.customer_text()
        if not raw.strip():
            raise InputError("the ticket has no customer message to answer",
                             hint='give at least one message with "author": "customer"')
        return raw

    def suggest(self, ticket: Ticket | str, *, brand: str | None = None,
                on_partial: Callable[[str], None] | None = None) -> Suggestion:
        """Draft a suggestion. ``on_partial`` receives the reply so far while a model writes it."""
        t0 = time.perf_counter()
        if isinstance(ticket, str):
            ticket = Ticket(messages=[Message(author="customer", body=ticket)])
        raw = self._require_customer_text(ticket)
        brand_name = brand or ticket.brand or self.default_brand()
        profile = self.config.brand(brand_name)
        # One pass: the index holds plain placeholders, an external model gets numbered ones.
        redaction = redact(raw, numbered=True)
        query = redaction.plain_text
        # Classified on the text retrieval embeds: the message's vector is computed once.
        screening = screen(raw, signals=self.signals.classify(
            query, examples=self.config.escalation_examples_for(brand_name)))
        language = detect_language(raw, default=(ticket.locale or "en").split("-")[0].lower())
        hits = self.searcher.search(query, brand=brand_name, k=self.settings.top_k)
        private = self.settings.llm_redact_pii
        request = DraftRequest(ticket=ticket, query=query, language=language, brand=brand_name, profile=profile,
                               hits=hits, screening=screening, customer_name=ticket.customer_name,
                               outbound_query=redaction.text if private else raw,
                               pii=redaction.entities if private else {})
        # Only streaming callers pass on_partial: drafters written before streaming keep working.
        draft = self.drafter.draft(request, on_partial=on_partial) if on_partial else self.drafter.draft(request)
        # Contract: a citation only names a source retrieved for this ticket, of this brand.
        allowed = {h.source_id for h in hits if h.chunk.brand == brand_name}
        citations = [c for c in draft.citations if c.source_id in allowed]
        flags = list(draft.flags)
        if len(citations) != len(draft.citations):
            flags.append("invalid_citation_removed")
        next_actions = self.actions.rank(query, hits, signals=screening.signals,
                                         has_order_number="ORDER_NUMBER" in redaction.counts,
                                         no_evidence="no_evidence" in flags)
        return Suggestion(
            id=uuid.uuid4().hex, reply=draft.reply, language=draft.language, citations=citations,
            next_actions=next_actions, confidence=draft.confidence, flags=list(dict.fromkeys(flags)),
            drafter=getattr(self.drafter, "name", type(self.drafter).__name__),
            prompt_version=draft.prompt_version, latency_ms=round((time.perf_counter() - t0) * 1000, 2),
            usage=draft.usage, unsupported_claims=draft.unsupported_claims,
            brand=brand_name, ticket_id=ticket.id or None,
            sentiment=screening.sentiment, escalation=screening.escalation,
        )
