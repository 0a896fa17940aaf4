"""The composition root: every part of the copilot built once, from settings and the config file.

``copilot serve``, ``copilot slack``, the CLI, evaluation and the tests all build their copilot
here (through ``Copilot``), so a process holds one embedding model, one store, one feedback
database engine and one set of helpdesk clients. Heavy parts are built on first use; any part can
be handed in ready-made (tests pass fakes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from copilot.actions import ActionRanker
from copilot.checks import CheckStage, GroundingChecker
from copilot.config import CopilotConfig
from copilot.drafting.base import Drafter
from copilot.drafting.embedded import EmbeddedDrafter
from copilot.drafting.rewrite import LLMRewriter, OfflineRewriter
from copilot.feedback import FeedbackStore
from copilot.helpdesks import Helpdesk, HelpdeskRegistry
from copilot.learning import BrandLearning
from copilot.lifecycle import Lifecycle
from copilot.limits import Limits
from copilot.ownership import StoreOwner
from copilot.pipeline import DraftPipeline
from copilot.retrieval.domains import BrandDomains
from copilot.retrieval.embeddings import Embedder, make_embedder
from copilot.retrieval.ingest import Ingestor
from copilot.retrieval.search import HybridSearcher
from copilot.retrieval.store import ChromaStore
from copilot.settings import Settings
from copilot.signals import EscalationClassifier
from copilot.telemetry import AppMetrics
from copilot.vault import Vault

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from copilot.jobs import Outbox

__all__ = ["Parts", "helpdesk_registry"]

T = TypeVar("T")


class part(Generic[T]):
    """A part built on first use, exactly once even when several threads ask at the same time
    (the service drafts on a thread pool: two embedding models would double the memory)."""

    def __init__(self, build: Callable[[Any], T]) -> None:
        self.build = build
        self.name = build.__name__

    @overload
    def __get__(self, obj: None, owner: type) -> part[T]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> T: ...

    def __get__(self, obj: object | None, owner: type) -> part[T] | T:
        if obj is None:
            return self
        cache: dict[str, Any] = obj.__dict__
        if self.name not in cache:
            with obj._building:  # type: ignore[attr-defined]
                if self.name not in cache:
                    cache[self.name] = self.build(obj)
        value: T = cache[self.name]
        return value


def helpdesk_registry(settings: Settings, config: CopilotConfig) -> HelpdeskRegistry:
    """The helpdesks configured by settings (credentials) and the config file (addresses)."""
    cfg = config.helpdesk
    out: dict[str, Helpdesk] = {}
    zd_base = settings.zendesk_base_url or (f"https://{cfg.zendesk_subdomain}.zendesk.com"
                                            if cfg.zendesk_subdomain else None)
    if zd_base and settings.zendesk_email and settings.zendesk_api_token:
        from copilot.helpdesks.zendesk import ZendeskClient

        out["zendesk"] = ZendeskClient.connect(zd_base, settings.zendesk_email,
                                               settings.zendesk_api_token.get_secret_value(), brand=cfg.brand)
    fd_base = settings.freshdesk_base_url or (f"https://{cfg.freshdesk_domain}.freshdesk.com"
                                              if cfg.freshdesk_domain else None)
    if fd_base and settings.freshdesk_api_key:
        from copilot.helpdesks.freshdesk import FreshdeskClient

        out["freshdesk"] = FreshdeskClient.connect(fd_base, settings.freshdesk_api_key.get_secret_value(),
                                                   brand=cfg.brand)
    return HelpdeskRegistry(out)


class Parts:
    """Lazily built, then kept: a warm process answers in milliseconds."""

    def __init__(self, settings: Settings, config: CopilotConfig, *, embedder: Embedder | None = None,
                 drafter: Drafter | None = None, feedback: FeedbackStore | None = None,
                 helpdesks: HelpdeskRegistry | None = None, callbacks: list[Any] | None = None) -> None:
        self.settings = settings
        self.config = config
        self.callbacks = callbacks or []
        self._embedder = embedder
        self._drafter = drafter
        self._feedback = feedback
        self._helpdesks = helpdesks
        # Two threads asking for the same part at once must not build it twice (one model, one engine).
        self._building = threading.RLock()

    @part
    def metrics(self) -> AppMetrics:
        return AppMetrics()

    @part
    def embedder(self) -> Embedder:
        if self._embedder is not None:
            return self._embedder
        key = self.settings.openai_api_key
        s = self.settings
        return make_embedder(s.embedder, openai_api_key=key.get_secret_value() if key else None,
                             base_url=s.llm_base_url, servers=s.embed_servers, concurrency=s.embed_concurrency,
                             batch=s.embed_batch)

    @part
    def store(self) -> ChromaStore:
        s = self.settings
        return ChromaStore(data_dir=s.data_dir, collection=s.collection, embedder_name=self.embedder.name,
                           dim=self.embedder.dim, host=s.chroma_host, port=s.chroma_port, ssl=s.chroma_ssl)

    @part
    def store_owner(self) -> StoreOwner | None:
        """The one-writer lock of the embedded store; None with a Chroma server (it serialises writes)."""
        s = self.settings
        return None if s.chroma_host else StoreOwner.for_folder(s.data_dir / "chroma")

    def writing(self) -> AbstractContextManager[None]:
        """Around every write to the index: refused at once when another process owns the embedded store."""
        return self.store_owner.writing() if self.store_owner is not None else nullcontext()

    @part
    def limits(self) -> Limits:
        s = self.settings
        return Limits(message_chars=s.max_message_chars, ticket_chars=s.max_ticket_chars,
                      article_chars=s.max_article_chars)

    @part
    def domains(self) -> BrandDomains:
        return BrandDomains(self.store, lambda brand: self.config.brand(brand).allowed_domains)

    @part
    def ingestor(self) -> Ingestor:
        return Ingestor(self.store, self.embedder, default_brand=self.config.default_brand or self.settings.default_brand,
                        known_actions={a.id for a in self.config.action_catalog()}, domains=self.domains,
                        limits=self.limits)

    @part
    def searcher(self) -> HybridSearcher:
        return HybridSearcher(self.store, self.embedder, cache_dir=self.settings.data_dir / "lexical")

    @part
    def embedded(self) -> EmbeddedDrafter:
        return EmbeddedDrafter(self.embedder, grounding=self.grounding)

    def chat_model(self, purpose: str = "draft") -> BaseChatModel:
        from copilot.chat_models import chat_model

        return chat_model(self.settings, "judge" if purpose == "judge" else "draft")

    @part
    def drafters(self) -> list[Drafter]:
        """In order of preference: a configured drafter or LLM first, the embedded drafter last."""
        if self._drafter is not None:
            return [self._drafter] if isinstance(self._drafter, EmbeddedDrafter) else [self._drafter, self.embedded]
        if not self.settings.llm_model:
            return [self.embedded]
        from copilot.chat_models import chat_model_name
        from copilot.drafting.llm import LLMDrafter

        llm = LLMDrafter(self.chat_model(), name=chat_model_name(self.settings) or "llm",
                         method=self.settings.llm_structured_output,
                         action_ids=[a.id for a in self.config.action_catalog()], callbacks=self.callbacks)
        return [llm, self.embedded]

    @part
    def grounding(self) -> GroundingChecker:
        judge = None
        if self.settings.llm_judge_grounding and self.settings.llm_model:
            from copilot.checks.judge import llm_judge

            judge = llm_judge(self.chat_model(), callbacks=self.callbacks)
        return GroundingChecker(self.embedder, judge=judge)

    @part
    def checks(self) -> CheckStage:
        return CheckStage(self.grounding, domains=self.domains.allowed)

    @part
    def pipeline(self) -> DraftPipeline:
        return DraftPipeline(self.drafters, self.checks, holding=self.embedded.holding,
                             calibration=lambda brand: self.learning.calibration(brand))

    @part
    def learning(self) -> BrandLearning:
        """Each brand's learned voice and confidence calibration, stored with its index."""
        return BrandLearning(self.store, self.searcher, self.embedder, self.pipeline, profile=self.config.brand,
                             top_k=self.settings.top_k)

    @part
    def offline_rewriter(self) -> OfflineRewriter:
        return OfflineRewriter()

    @part
    def llm_rewriter(self) -> LLMRewriter | None:
        """Rewrites through the drafting model, when one drafts (the same client, one set of settings)."""
        from copilot.drafting.llm import LLMDrafter

        llm = next((d for d in self.drafters if isinstance(d, LLMDrafter)), None)
        return LLMRewriter(llm.chat_model, name=llm.name) if llm is not None else None

    @part
    def signals(self) -> EscalationClassifier:
        return EscalationClassifier.on(self.embedder, cache_dir=self.settings.data_dir / "signals")

    @part
    def actions(self) -> ActionRanker:
        return ActionRanker(self.config.action_catalog(), self.embedder)

    @part
    def feedback(self) -> FeedbackStore:
        if self._feedback is not None:
            return self._feedback
        return FeedbackStore.for_data_dir(self.settings.data_dir, self.settings.feedback_url)

    @part
    def helpdesks(self) -> HelpdeskRegistry:
        return self._helpdesks if self._helpdesks is not None else helpdesk_registry(self.settings, self.config)

    @part
    def vault(self) -> Vault:
        key = self.settings.data_key
        return Vault(self.feedback, key=key.get_secret_value() if key else None,
                     retention_hours=self.settings.data_retention_hours)

    @part
    def lifecycle(self) -> Lifecycle:
        return Lifecycle(self.feedback, self.helpdesks, self.metrics, self.vault)

    @part
    def outbox(self) -> Outbox:
        from copilot.jobs import Outbox

        s = self.settings
        outbox = Outbox(self.feedback, {}, lease_s=s.job_lease_s, metrics=self.metrics,
                        job_retention_days=s.job_retention_days, event_retention_days=s.delivery_retention_days)
        self.metrics.registry.register(outbox.collector())
        return outbox
