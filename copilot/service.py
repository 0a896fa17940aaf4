"""The Copilot facade: the application layer every integration, the CLI and evaluation call.

It owns a suggestion's whole life: drafting (retrieval, the drafters, the check stage, next-best
actions), saving what was shown, looking it up within the caller's brands, feedback with one set
of rules for every channel, delivery to a helpdesk, helpdesk events as durable jobs, and stats.
Integrations parse their input, call these methods and render the result; nothing else.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from copilot.brand import BrandProfile, Frame, split_frame, voice_frame
from copilot.checks import CheckContext, DraftRejected, Grounding, SourceText
from copilot.composition import Parts
from copilot.config import CopilotConfig, load_config
from copilot.drafting.base import Drafter, DraftFailed
from copilot.errors import InputError, UnknownBrandError
from copilot.flags import Flag
from copilot.helpdesks import HelpdeskRegistry
from copilot.language import detect_language
from copilot.limits import check_budget, time_budget
from copilot.models import (
    Article,
    Evidence,
    FeedbackRecord,
    FeedbackStats,
    Hit,
    Message,
    Outcome,
    SendResult,
    ShownSuggestion,
    SourceKind,
    StreamEvent,
    Suggestion,
    Ticket,
)
from copilot.pii import redact
from copilot.pipeline import draft_request, retrieve
from copilot.retrieval.embeddings import Embedder
from copilot.retrieval.fusion import FusionCalibration
from copilot.retrieval.ingest import Ingestor, IngestSummary, publish
from copilot.retrieval.search import SearchExplanation
from copilot.settings import Settings
from copilot.voice import voiced_profile

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable
    from prometheus_client import CollectorRegistry

    from copilot.events import Accepted, EventKind, HelpdeskEvents
    from copilot.feedback import FeedbackStore
    from copilot.jobs import Job, OutboxStats

__all__ = ["Copilot", "IndexInfo"]


class IndexInfo(BaseModel):
    location: str
    embedder: str
    chunks: int
    brands: list[str]


class Copilot:
    """Ingest sources, search them, suggest replies with next-best actions, and follow each
    suggestion to its outcome.

    Heavy parts (the embedding model, the store, the lexical index) are built on first use and then
    kept: a warm process answers in milliseconds. Pass ready-made parts to replace any of them.
    """

    def __init__(self, settings: Settings | None = None, *, config: CopilotConfig | None = None,
                 embedder: Embedder | None = None, drafter: Drafter | None = None,
                 feedback: FeedbackStore | None = None, helpdesks: HelpdeskRegistry | None = None,
                 callbacks: list[Any] | None = None) -> None:
        self.settings = settings or Settings()
        self.config = config if config is not None else load_config(self.settings.config)
        # The composition root: each part built once, on first use.
        self.parts = Parts(self.settings, self.config, embedder=embedder, drafter=drafter, feedback=feedback,
                           helpdesks=helpdesks, callbacks=callbacks)
        self._known_brands: set[str] = set()
        self._warm: set[str] = set()

    # --- the index ----------------------------------------------------------------------------

    def default_brand(self) -> str:
        return self.config.default_brand or self.settings.default_brand

    def resolve_brand(self, brand: str | None = None) -> str:
        """The brand to answer for: the given one or the default, if it is known (a configured profile,
        or something indexed). A misspelled brand is refused, naming the known ones, instead of
        answering from an empty index under a raw id."""
        name = brand or self.default_brand()
        if name in self.config.brands or "*" in self.config.brands or name in self._known_brands:
            return name
        # Another process (or replica) may have indexed it since: look once before refusing.
        self._known_brands = set(self.parts.store.brands())
        if name in self._known_brands:
            return name
        known = sorted(self._known_brands | set(self.config.brands))
        # Helpdesks and people write handles in any case ("sprint" for "Sprint"): one match is that brand.
        same = [b for b in known if b.casefold() == name.casefold()]
        if len(same) == 1:
            return same[0]
        raise UnknownBrandError(
            f"unknown brand {name!r}: it has no profile in the config and nothing indexed",
            hint=(f"known brands: {', '.join(known)} (pass --brand, or set default_brand in the config)" if known
                  else "nothing is indexed yet: run `copilot ingest` (or `copilot demo`) first"))

    def index_info(self) -> IndexInfo:
        store = self.parts.store
        return IndexInfo(location=store.location, embedder=self.parts.embedder.name, chunks=store.count(),
                         brands=store.brands())

    def health(self) -> dict[str, str]:
        """Readiness of each dependency: "ok", or what is failing."""
        checks: dict[str, str] = {}
        for name, probe in (("index", self.parts.store.brands), ("feedback_store", self.parts.feedback.ping)):
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"failing: {type(exc).__name__}"
        return checks

    def _ready(self, brand: str) -> float:
        """Build what drafting for ``brand`` needs (model, store, its lexical index, the drafters, the
        language model); the milliseconds it took, 0 when all was ready."""
        if brand in self._warm:
            return 0.0
        t0 = time.perf_counter()
        p = self.parts
        _ = (p.embedder, p.pipeline, p.actions, p.signals)
        p.searcher.lexical(brand)
        detect_language("ready")
        self._warm.add(brand)
        return _since(t0)

    def warm_up(self) -> None:
        """Load the model and every brand's lexical index now, not on the first customer's request."""
        # One query per tokenizer path: Chinese segmentation and language detection load lazily too.
        queries = ["where is my refund", "hoàn tiền", "退款什么时候到账"]
        p = self.parts
        for q in queries:
            detect_language(q)
            p.signals.classify(q)
        for brand in p.store.brands():
            for q in queries:
                hits = p.searcher.search(q, brand=brand, k=self.settings.top_k)
                p.actions.rank(q, hits, signals=[], has_order_number=False, no_evidence=False)
            self._warm.add(brand)
            self._known_brands.add(brand)
        _ = p.pipeline

    def ingest(self, kb: Iterable[Path] = (), tickets: Iterable[Path] = (), *, brand: str | None = None,
               prune: bool = False, include_unresolved: bool = False, progress: bool | None = None,
               on_progress: Callable[[int, int], None] | None = None) -> IngestSummary:
        with self.parts.writing():
            summary = self._ingestor().ingest(kb, tickets, brand=brand, prune=prune,
                                              include_unresolved=include_unresolved, progress=progress,
                                              on_progress=on_progress)
        self.parts.searcher.invalidate()
        self._learn(summary)
        return summary

    def ingest_records(self, articles: Iterable[Article] = (), tickets: Iterable[Ticket] = (), *,
                       brand: str | None = None) -> IngestSummary:
        with self.parts.writing():
            summary = self._ingestor().ingest_records(articles, tickets, brand=brand, progress=False)
        self.parts.searcher.invalidate()
        self._learn(summary)
        return summary

    def _learn(self, summary: IngestSummary) -> None:
        """Each changed brand's voice and confidence calibration, refreshed when its history grew."""
        summary.learned = self.parts.learning.refresh(summary.brands)

    def brand_profile(self, brand: str, channel: str | None = None) -> BrandProfile:
        """The brand's configured profile, with what its agents do on ``channel`` (learned at ingest)
        for every value the configuration does not set."""
        return voiced_profile(self.config.brand(brand), self.parts.learning.voice(brand), channel)

    def remove_sources(self, brand: str, source_ids: Sequence[str]) -> None:
        """Delete indexed sources (``article:<id>`` / ``ticket:<id>``) of a brand."""
        with self.parts.writing():
            self.parts.store.delete_sources(brand, list(source_ids))
            self.parts.store.bump_version(brand)
        self.parts.searcher.invalidate()

    def own_store(self) -> None:
        """Own the embedded index for this process's life (``copilot serve``, ``copilot worker``): another
        process's ingest is then refused instead of corrupting this one's view (see copilot.ownership)."""
        if self.parts.store_owner is not None:
            self.parts.store_owner.hold()

    def _ingestor(self) -> Ingestor:
        return self.parts.ingestor

    def explain_search(self, query: str, *, brand: str | None = None) -> SearchExplanation:
        """How a query is ranked for a brand: its language, terms and the fusion weights used."""
        return self.parts.searcher.explain(redact(query).text, brand=self.resolve_brand(brand))

    def recalibrate(self, brand: str | None = None) -> FusionCalibration | None:
        """Measure the brand's fusion weights again now (ingest does it when the brand changed enough);
        None when the brand has nothing indexed."""
        b = self.resolve_brand(brand)
        publish(self.parts.store, self.parts.embedder, b, force_calibration=True)
        self.parts.searcher.invalidate()
        return self.parts.searcher.calibration(b)

    def search(self, query: str, *, brand: str | None = None, k: int | None = None,
               kinds: list[SourceKind] | None = None) -> list[Hit]:
        if not query.strip():
            raise InputError("the search query is empty", hint="pass some text to search for")
        return self.parts.searcher.search(redact(query).text, brand=self.resolve_brand(brand),
                                          k=k or self.settings.top_k, kinds=kinds)

    # --- drafting -----------------------------------------------------------------------------

    def accept_ticket(self, ticket: Ticket, *, where: str | None = None, answerable: bool = True) -> str:
        """The ticket's customer text, once the ticket is within the size limits (TooLargeError) and,
        when it is to be ``answerable``, has a customer message (InputError)."""
        self.parts.limits.check_ticket(ticket, where=where)
        return _require_customer_text(ticket) if answerable else ticket.customer_text()

    def suggest(self, ticket: Ticket | str, *, brand: str | None = None, channel: str | None = None,
                context: dict[str, Any] | None = None,
                on_partial: Callable[[str], None] | None = None) -> Suggestion:
        """Draft a suggestion. With ``channel`` (where it is shown: "slack", "api", "zendesk"...) it is
        also saved as shown, with ``context`` (where to find it again), so feedback can follow.
        ``on_partial`` receives the reply so far while a model writes it. Raises TooLargeError over
        the size limits and TimeBudgetError past the request's time budget."""
        if isinstance(ticket, str):
            ticket = Ticket(messages=[Message(author="customer", body=ticket)])
        with time_budget(self.settings.request_budget_s):
            return self._suggest(ticket, brand=brand, channel=channel, context=context, on_partial=on_partial)

    def _suggest(self, ticket: Ticket, *, brand: str | None, channel: str | None, context: dict[str, Any] | None,
                 on_partial: Callable[[str], None] | None) -> Suggestion:
        self.accept_ticket(ticket)
        p = self.parts
        brand_name = self.resolve_brand(brand or ticket.brand)
        # Loading models and indexes is start-up, not drafting: it is reported apart (once per process).
        startup_ms = self._ready(brand_name)
        t0 = time.perf_counter()
        profile = self.brand_profile(brand_name, ticket.channel)
        # One pass: the index holds plain placeholders, an external model gets numbered ones.
        request, redaction = draft_request(
            ticket, brand=brand_name, profile=profile, private=self.settings.llm_redact_pii,
            search=lambda query: retrieve(p.searcher, query, brand=brand_name, k=self.settings.top_k),
            classify=lambda query: p.signals.classify(
                query, examples=self.config.escalation_examples_for(brand_name)))
        query, screening, retrieved = request.query, request.screening, request.hits
        check_budget("drafting")
        drafted = p.pipeline.run(request, on_partial=on_partial)
        checked = drafted.checked
        flags = checked.flags
        next_actions = p.actions.rank(query, drafted.hits, signals=screening.signals,
                                      has_order_number="ORDER_NUMBER" in redaction.counts,
                                      no_evidence=Flag.NO_EVIDENCE in flags)
        suggestion = Suggestion(
            id=uuid.uuid4().hex, reply=checked.reply, language=checked.language, citations=checked.citations,
            next_actions=next_actions, confidence=checked.confidence, flags=flags,
            drafter=drafted.drafter, prompt_version=drafted.prompt_version,
            latency_ms=_since(t0), startup_ms=startup_ms, usage=drafted.usage,
            unsupported_claims=checked.unsupported_claims, brand=brand_name, ticket_id=ticket.id or None,
            sentiment=screening.sentiment, escalation=screening.escalation, guidance=drafted.guidance,
            evidence=[Evidence.from_hit(h) for h in retrieved])
        p.metrics.suggestions.labels(brand_name, suggestion.drafter).inc()
        if Flag.LLM_FALLBACK in suggestion.flags:
            p.metrics.fallbacks.labels(brand_name).inc()
        if channel is not None:
            p.lifecycle.save(suggestion, ticket, channel=channel, context=context)
        return suggestion

    def stream(self, ticket: Ticket | str, *, brand: str | None = None, channel: str | None = None,
               context: dict[str, Any] | None = None) -> Iterator[StreamEvent]:
        """Suggest, yielding the reply text as the model writes it, then the checked suggestion.

        ``partial`` events carry the whole reply so far (replace, do not append: placeholders and
        markup settle as it grows). The last event is ``suggestion``; its reply is what may be sent,
        since checks can still remove sentences. Input errors are raised before the first event.
        """
        if isinstance(ticket, str):
            ticket = Ticket(messages=[Message(author="customer", body=ticket)])
        self.accept_ticket(ticket)
        events: queue.Queue[StreamEvent | BaseException] = queue.Queue()

        def work() -> None:
            try:
                s = self.suggest(ticket, brand=brand, channel=channel, context=context,
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

    def rewrite(self, suggestion: Suggestion, instruction: str, *, language: str | None = None) -> Suggestion:
        """Rewrite a suggestion's reply: shorter, friendlier, more formal, translated, or free-text edits.
        The rewrite passes the same checks as every draft. ``language`` is the customer's language for
        "translate" (default: the suggestion's)."""
        from copilot.drafting.rewrite import classify_instruction

        if not instruction.strip():
            raise InputError("the rewrite instruction is empty", hint='e.g. "shorter", "more formal", "translate"')
        t0 = time.perf_counter()
        p = self.parts
        brand = suggestion.brand or self.default_brand()
        profile = self.brand_profile(brand)
        kind = classify_instruction(instruction)
        target = (language or suggestion.language) if kind == "translate" else suggestion.language
        old: Frame = voice_frame(profile, brand, suggestion.language)
        greeting, body = split_frame(suggestion.reply, old)
        # The model sees the reply with personal data replaced, like every draft.
        redaction = redact(body, numbered=True)
        sources = {e.source_id: SourceText(e.source_id, e.full_text, e.url) for e in suggestion.evidence} or \
            {c.source_id: SourceText(c.source_id, c.snippet, c.url) for c in suggestion.citations}
        ctx = CheckContext(brand=brand, profile=profile, sources=sources, ticket_text="",
                           injected=Flag.POSSIBLE_PROMPT_INJECTION in suggestion.flags, pii=redaction.entities,
                           greeting=greeting if greeting and target == suggestion.language else None,
                           support=[redaction.text], claims="numbers" if target != suggestion.language else "grounded")
        # (its instructions, the rewrite) in order of preference: the model first, when configured.
        attempts: list[tuple[str, Callable[[], str | None]]] = []
        llm = p.llm_rewriter
        if llm is not None:
            attempts.append((llm.prompt_text, lambda: llm.rewrite(redaction.text, instruction, language=target)))
        empathy = p.embedded.strings(target)[1]["opener_apology"]
        attempts.append(("", lambda: p.offline_rewriter.rewrite(redaction.text, instruction, empathy=empathy,
                                                                profile=profile)))
        flags: list[str] = []
        for i, (prompt_text, run) in enumerate(attempts):
            last = i == len(attempts) - 1
            try:
                new_body = run()
                if new_body is None:  # the offline rewriter cannot do this one: the reply stays as it was
                    return suggestion.model_copy(update={
                        "id": uuid.uuid4().hex, "flags": _merge(suggestion.flags, flags, [Flag.REWRITE_UNSUPPORTED]),
                        "latency_ms": _since(t0)})
                checked = p.checks.run(new_body, language=target, citations=suggestion.citations,
                                       confidence=suggestion.confidence, ctx=replace(ctx, prompt_text=prompt_text),
                                       strict=not last)
            except (DraftFailed, DraftRejected) as exc:
                flags += [Flag.LLM_FALLBACK, *(exc.flags if isinstance(exc, DraftRejected) else [])]
                continue
            return suggestion.model_copy(update={
                "id": uuid.uuid4().hex, "reply": checked.reply, "language": checked.language,
                "citations": checked.citations, "confidence": checked.confidence,
                "unsupported_claims": checked.unsupported_claims,
                "flags": _merge(suggestion.flags, flags, checked.flags), "latency_ms": _since(t0)})
        raise AssertionError("the offline rewriter always answers")  # pragma: no cover

    # --- a suggestion's life after it is shown --------------------------------------------------

    def get_suggestion(self, suggestion_id: str, *, brands: Collection[str] | None = None) -> ShownSuggestion:
        """A suggestion that was shown, with its ticket and where it was shown; NotFoundError when it
        does not exist or belongs to a brand outside ``brands``."""
        return self.parts.lifecycle.get(suggestion_id, brands=brands)

    def rewrite_shown(self, suggestion_id: str, instruction: str, *, language: str | None = None,
                      brands: Collection[str] | None = None) -> Suggestion:
        """Rewrite a shown suggestion; the rewrite is shown in its place (saved, same ticket and context)."""
        shown = self.get_suggestion(suggestion_id, brands=brands)
        new = self.rewrite(shown.suggestion, instruction, language=language)
        self.parts.lifecycle.save(new, shown.ticket, channel=shown.channel or "unknown", context=shown.context)
        return new

    def regenerate(self, suggestion_id: str, *, agent: str | None = None,
                   brands: Collection[str] | None = None) -> Suggestion:
        """Draft the ticket again; the old suggestion is recorded as ignored."""
        shown = self.get_suggestion(suggestion_id, brands=brands)
        new = self.suggest(shown.ticket, brand=shown.suggestion.brand, channel=shown.channel or "unknown",
                           context=shown.context)
        self.record_feedback(suggestion_id, "ignored", agent=agent, comment="regenerated", brands=brands)
        return new

    def record_feedback(self, suggestion_id: str, outcome: Outcome, *, agent: str | None = None,
                        channel: str | None = None, final_text: str | None = None, reason: str | None = None,
                        comment: str | None = None, brands: Collection[str] | None = None) -> FeedbackRecord:
        """Record what the agent did. One outcome per suggestion (ConflictError on a second); a sent
        text that differs from the draft is "edited", with its edit distance."""
        return self.parts.lifecycle.record(suggestion_id, outcome, agent=agent, channel=channel,
                                           final_text=final_text, reason=reason, comment=comment, brands=brands)

    def send(self, suggestion_id: str, *, agent: str | None = None, channel: str | None = None,
             final_text: str | None = None, brands: Collection[str] | None = None,
             deliver: Callable[[str], None] | None = None) -> SendResult:
        """Record a sent reply (``final_text``, default the draft) and deliver it: to the helpdesk ticket
        it answers when it was shown on one, else through ``deliver``. A failed delivery undoes the
        outcome; a second send is a ConflictError."""
        return self.parts.lifecycle.send(suggestion_id, agent=agent, channel=channel, final_text=final_text,
                                         brands=brands, deliver=deliver)

    def claim(self, key: str) -> bool:
        """Record a delivery id (a Slack event, a webhook); False when it was seen before."""
        return self.parts.lifecycle.claim(key)

    def feedback_stats(self, *, agent: str | None = None, brand: str | None = None) -> FeedbackStats:
        return self.parts.lifecycle.stats(agent=agent, brand=brand)

    def feedback_records(self, *, brand: str | None = None, agent: str | None = None) -> Iterator[FeedbackRecord]:
        return self.parts.lifecycle.records(brand=brand, agent=agent)

    # --- helpdesk events ------------------------------------------------------------------------

    @cached_property
    def events(self) -> HelpdeskEvents:
        from copilot.events import HelpdeskEvents

        p = self.parts
        return HelpdeskEvents(outbox=p.outbox, lifecycle=p.lifecycle, helpdesks=p.helpdesks,
                              config=self.config.helpdesk, default_brand=self.default_brand(), suggest=self.suggest,
                              learn=lambda tickets: self.ingest_records(tickets=tickets))

    def accept_event(self, source: str, event: EventKind, *, delivery: str | Sequence[str],
                     ticket_id: str | None = None,
                     ticket: Ticket | None = None, callback_url: str | None = None) -> Accepted:
        """Queue the work for a verified helpdesk event, once per delivery id."""
        return self.events.accept(source, event, delivery=delivery, ticket_id=ticket_id, ticket=ticket,
                                  callback_url=callback_url)

    def run_jobs(self) -> int:
        """Run the jobs that are due now (the worker does this in the background); returns how many succeeded."""
        _ = self.events
        return self.parts.outbox.run_due()

    def start_worker(self, threads: int | None = None) -> None:
        """Run due jobs in background threads (``copilot worker``, or inside ``copilot serve``); any
        number of processes may do this on one database: each job runs in one at a time."""
        _ = self.events
        s = self.settings
        self.parts.outbox.start(threads=threads or s.worker_threads, poll_s=s.job_poll_s)

    def stop_worker(self, timeout_s: float = 30.0) -> None:
        self.parts.outbox.stop(timeout_s)

    def job_stats(self) -> OutboxStats:
        return self.parts.outbox.stats()

    def failed_jobs(self) -> list[Job]:
        return self.parts.outbox.jobs("failed")

    def retry_jobs(self, job_ids: list[int] | None = None) -> int:
        """Queue failed jobs again (all, or these ids); returns how many."""
        return self.parts.outbox.retry(job_ids)

    def backfill(self, helpdesk: str, *, since: int) -> tuple[int, IngestSummary]:
        """Ingest the tickets a helpdesk solved since ``since`` (Unix seconds): (tickets read, summary)."""
        client = self.parts.helpdesks.require(helpdesk)
        solved_since = getattr(client, "solved_since", None)
        if solved_since is None:
            raise InputError(f"{helpdesk} has no export of solved tickets", hint="only zendesk supports backfill")
        tickets = [client.ticket(tid) for tid in solved_since(since)]
        brand = self.config.helpdesk.brand or self.default_brand()
        summary = self.ingest_records(tickets=[t.model_copy(update={"brand": t.brand or brand}) for t in tickets
                                               if t.agent_replies()])
        return len(tickets), summary

    # --- what evaluation and adapters use -----------------------------------------------------------

    @property
    def metrics_registry(self) -> CollectorRegistry:
        return self.parts.metrics.registry

    @property
    def embedder(self) -> Embedder:
        """The embedding model (the LangChain adapter and evaluation's similarity metric use it)."""
        return self.parts.embedder

    def brand_frame(self, brand: str, language: str, name: str | None = None) -> Frame:
        return voice_frame(self.brand_profile(brand), brand, language, name)

    def check_grounding(self, reply: str, sources: Sequence[str]) -> Grounding:
        """Which claims of a reply the sources support (the check stage's own grounding)."""
        return self.parts.grounding.check(reply, sources)

    def chat_model(self, purpose: str = "draft") -> BaseChatModel:
        """The configured chat model for "draft" or "judge" (ConfigError when none is configured)."""
        return self.parts.chat_model(purpose)


def _merge(*flag_lists: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(f for flags in flag_lists for f in flags))


def _since(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


def _require_customer_text(ticket: Ticket) -> str:
    raw = ticket.customer_text()
    if not raw.strip():
        raise InputError("the ticket has no customer message to answer",
                         hint='give at least one message with "author": "customer"')
    return raw
