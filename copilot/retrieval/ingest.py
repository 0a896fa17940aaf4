"""Incremental ingestion: load -> screen -> redact + chunk -> compare content hashes -> embed -> upsert -> publish.

Only new or changed sources are embedded; ``prune`` deletes sources of the
ingested brands that no longer appear in the inputs. Bad records are reported
with file and line and never stop the good ones; suspicious ones are quarantined
(``quarantine.py``). Ids are unique per brand: two brands may both have ``refunds.md``.

Publishing a brand (one metadata write, see ``ChromaStore.bump_version``) names the analyzer its
BM25 terms were made with and its fusion calibration, refreshed when the brand changed enough
(``calibration.needs_refresh``). A brand indexed by an older analyzer is migrated on its next
ingest: its terms are re-made from the stored texts, nothing is embedded again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, Field

from copilot.actions import learned_title
from copilot.limits import Limits
from copilot.models import Article, Chunk, Ticket
from copilot.retrieval.calibration import Calibrator, needs_refresh
from copilot.retrieval.chunking import article_chunks, ticket_chunks
from copilot.retrieval.domains import BrandDomains, learned_domains
from copilot.retrieval.embeddings import Embedder
from copilot.retrieval.fusion import FusionCalibration
from copilot.retrieval.lexical import lexical_text
from copilot.retrieval.quarantine import article_reasons, ticket_reasons
from copilot.retrieval.sources import Loaded, load_kb, load_tickets
from copilot.retrieval.store import ChromaStore
from copilot.text import BM25_ANALYZER, LexicalAnalyzer

__all__ = ["BrandLearned", "IngestSummary", "Ingestor", "LearnedAction", "embed_text", "publish"]

EMBED_BATCH = 64


class LearnedAction(BaseModel):
    """An action id that ingested tickets carry and the action catalog does not describe."""

    id: str
    title: str
    tickets: int
    brands: list[str]
    examples: list[str]  # ids of tickets that used it


class BrandLearned(BaseModel):
    """What an ingest taught the copilot about a brand (its voice, its confidence calibration)."""

    brand: str
    history: int                 # resolved tickets the brand has
    voice: bool = False          # a voice was learned (enough first replies)
    calibrated_on: int = 0       # held-out drafts the calibration was fitted on (0: the default map)
    good: int = 0                # ... of which said what the agent said
    seconds: float = 0.0


class IngestSummary(BaseModel):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_embedded: int = 0
    migrated: list[str] = Field(default_factory=list)      # brands whose BM25 terms were re-made
    calibrated: list[str] = Field(default_factory=list)    # brands whose fusion weights were refreshed
    skipped: list[tuple[str, str]] = Field(default_factory=list)
    # (source id, why): suspicious sources, not indexed (and removed from the index if they were).
    quarantined: list[tuple[str, str]] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    # Most used first. They rank as next actions already; a catalog entry gives them a title and cues.
    learned_actions: list[LearnedAction] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)          # brands whose sources changed
    learned: list[BrandLearned] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# (brand, source id): the same id in two brands is two sources.
_Key = tuple[str, str]
_Record = TypeVar("_Record", Article, Ticket)


@dataclass
class _Plan:
    chunks: list[Chunk] = field(default_factory=list)
    added: set[_Key] = field(default_factory=set)
    updated: set[_Key] = field(default_factory=set)
    unchanged: int = 0


class Ingestor:
    def __init__(self, store: ChromaStore, embedder: Embedder, *, default_brand: str = "default",
                 known_actions: Collection[str] = (), analyzer: LexicalAnalyzer = BM25_ANALYZER,
                 domains: BrandDomains | None = None, limits: Limits | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.default_brand = default_brand
        self.known_actions = frozenset(known_actions)
        self.analyzer = analyzer
        self.domains = domains
        self.limits = limits or Limits()

    def load(self, kb: Iterable[Path] = (), tickets: Iterable[Path] = (), *,
             include_unresolved: bool = False) -> Loaded:
        merged = Loaded()
        for path in kb:
            part = load_kb(Path(path))
            merged.articles += part.articles
            merged.issues += part.issues
            merged.skipped += part.skipped
        for path in tickets:
            part = load_tickets(Path(path), include_unresolved=include_unresolved)
            merged.tickets += part.tickets
            merged.issues += part.issues
            merged.skipped += part.skipped
        return merged

    def ingest(self, kb: Iterable[Path] = (), tickets: Iterable[Path] = (), *, brand: str | None = None,
               prune: bool = False, include_unresolved: bool = False, progress: bool | None = None,
               on_progress: Callable[[int, int], None] | None = None) -> IngestSummary:
        t0 = time.perf_counter()
        loaded = self.load(kb, tickets, include_unresolved=include_unresolved)
        summary = self.ingest_records(loaded.articles, loaded.tickets, brand=brand, prune=prune,
                                      progress=progress, on_progress=on_progress)
        summary.skipped = loaded.skipped + summary.skipped
        summary.errors = [str(i) for i in loaded.issues] + summary.errors
        summary.seconds = time.perf_counter() - t0
        return summary

    def ingest_records(self, articles: Iterable[Article] = (), tickets: Iterable[Ticket] = (), *,
                       brand: str | None = None, prune: bool = False, progress: bool | None = None,
                       on_progress: Callable[[int, int], None] | None = None) -> IngestSummary:
        t0 = time.perf_counter()
        summary = IngestSummary()
        by_source: dict[_Key, list[Chunk]] = {}
        arts, tks, quarantined = self._admit([(a, brand or a.brand or self.default_brand) for a in articles],
                                             [(t, brand or t.brand or self.default_brand) for t in tickets], summary)
        for a, b in arts:
            self._claim(by_source, article_chunks(a, b), summary)
        learned: dict[str, LearnedAction] = {}
        for t, b in tks:
            chunks = ticket_chunks(t, b)
            self._claim(by_source, chunks, summary)
            self._learn(learned, t, chunks[0])
        summary.learned_actions = sorted(learned.values(), key=lambda a: (-a.tickets, a.id))

        by_brand: dict[str, list[str]] = {}
        for b, sid in by_source:
            by_brand.setdefault(b, []).append(sid)
        stored: dict[_Key, tuple[str, int]] = {}
        for b, sids in by_brand.items():
            stored.update({(b, sid): v for sid, v in self.store.source_hashes(b, sids).items()})
        plan = _Plan()
        stale: list[_Key] = []
        for key, chunks in by_source.items():
            old = stored.get(key)
            if old is not None and old[0] == chunks[0].source_hash:
                plan.unchanged += 1
                continue
            (plan.updated if old else plan.added).add(key)
            if old and old[1] > len(chunks):
                stale.append(key)  # fewer sections now: old tail chunks must go
            plan.chunks.extend(chunks)

        changed = {c.brand for c in plan.chunks} | self._unindex(quarantined)
        for b, sid in stale:
            self.store.delete_sources(b, [sid])
        self._embed_and_store(plan.chunks, summary, progress, on_progress)
        summary.added, summary.updated, summary.unchanged = len(plan.added), len(plan.updated), plan.unchanged

        if prune:
            for b in set(by_brand) or {brand or self.default_brand}:
                gone = [sid for sid in self.store.sources(b) if (b, sid) not in by_source]
                if gone:
                    self.store.delete_sources(b, gone)
                    summary.removed += len(gone)
                    changed.add(b)
        for b in sorted(changed | set(by_brand)):
            migrated, calibrated = publish(self.store, self.embedder, b, analyzer=self.analyzer,
                                           changed=b in changed)
            summary.migrated += [b] if migrated else []
            summary.calibrated += [b] if calibrated else []
        summary.brands = sorted(changed)
        if self.domains is not None:
            self.domains.invalidate()
        summary.seconds = time.perf_counter() - t0
        return summary

    def _learn(self, learned: dict[str, LearnedAction], ticket: Ticket, chunk: Chunk) -> None:
        for aid in dict.fromkeys(a for a in ticket.actions if a.strip() and a not in self.known_actions):
            entry = learned.setdefault(aid, LearnedAction(id=aid, title=learned_title(aid), tickets=0, brands=[],
                                                          examples=[]))
            entry.tickets += 1
            if chunk.brand not in entry.brands:
                entry.brands.append(chunk.brand)
            if len(entry.examples) < 3:
                entry.examples.append(chunk.source_id)

    def _admit(self, articles: list[tuple[Article, str]], tickets: list[tuple[Ticket, str]],
               summary: IngestSummary) -> tuple[list[tuple[Article, str]], list[tuple[Ticket, str]], list[_Key]]:
        """The records that may be indexed, and the quarantined ones: an oversized or id-less record
        is an error, a suspicious one is quarantined; neither stops the others."""
        batch_urls: dict[str, list[str | None]] = {}
        for a, b in articles:
            batch_urls.setdefault(b, []).append(a.url)
        allowed_by_brand: dict[str, set[str]] = {}

        def allowed(b: str) -> set[str]:
            if b not in allowed_by_brand:
                known = self.domains.allowed(b) if self.domains is not None else set()
                allowed_by_brand[b] = known | learned_domains(batch_urls.get(b, []))
            return allowed_by_brand[b]

        quarantined: list[_Key] = []

        def admit(records: list[tuple[_Record, str]], kind: str, problem: Callable[[_Record], str | None],
                  suspicious: Callable[[_Record, set[str]], list[str]]) -> list[tuple[_Record, str]]:
            kept = []
            for r, b in records:
                rid = r.id
                issue = problem(r)
                if issue:
                    summary.errors.append(f"{kind}:{rid or '?'} ({b}): {issue}; skipped")
                    continue
                reasons = suspicious(r, allowed(b))
                if reasons:
                    summary.quarantined.append((f"{kind}:{rid}", f"{'; '.join(reasons)} (brand {b})"))
                    quarantined.append((b, f"{kind}:{rid}"))
                    continue
                kept.append((r, b))
            return kept

        kept_articles = admit(articles, "article", self.limits.article_problem, article_reasons)
        kept_tickets = admit(tickets, "ticket", lambda t: "a ticket without an id cannot be stored"
                             if not t.id.strip() else self.limits.ticket_problem(t), ticket_reasons)
        return kept_articles, kept_tickets, quarantined

    def _unindex(self, quarantined: list[_Key]) -> set[str]:
        """A source that is suspicious now is not served in an older version either."""
        changed = set()
        for b, sid in quarantined:
            if self.store.source_hashes(b, [sid]):
                self.store.delete_sources(b, [sid])
                changed.add(b)
        return changed

    @staticmethod
    def _claim(by_source: dict[_Key, list[Chunk]], chunks: list[Chunk], summary: IngestSummary) -> None:
        key = (chunks[0].brand, chunks[0].source_id)
        if key in by_source:
            summary.skipped.append((key[1], f"duplicate id in brand {key[0]!r} in this ingest (the first one was kept)"))
            return
        by_source[key] = chunks

    def _embed_and_store(self, chunks: list[Chunk], summary: IngestSummary, progress: bool | None,
                         on_progress: Callable[[int, int], None] | None) -> None:
        if not chunks:
            return
        show = sys.stderr.isatty() if progress is None else progress
        bar = None
        if show:
            from tqdm import tqdm

            bar = tqdm(total=len(chunks), unit="chunk", desc="embedding", file=sys.stderr, leave=False)
        try:
            # An embedder on several servers wants more texts per call, to keep all of them busy.
            step = max(EMBED_BATCH, int(getattr(self.embedder, "preferred_batch", EMBED_BATCH)))
            for i in range(0, len(chunks), step):
                batch = chunks[i : i + step]
                vectors = self.embedder.embed_documents([embed_text(c) for c in batch])
                lex = [" ".join(self.analyzer(lexical_text(c))) for c in batch]
                self.store.upsert(batch, vectors, lex, analyzer=self.analyzer.version)
                summary.chunks_embedded += len(batch)
                if bar is not None:
                    bar.update(len(batch))
                if on_progress is not None:
                    on_progress(summary.chunks_embedded, len(chunks))
        finally:
            if bar is not None:
                bar.close()


def embed_text(c: Chunk) -> str:
    # A ticket is found by the problem it describes; an article by its content.
    return c.text


def publish(store: ChromaStore, embedder: Embedder, brand: str, *, analyzer: LexicalAnalyzer = BM25_ANALYZER,
            changed: bool = True, force_calibration: bool = False) -> tuple[bool, bool]:
    """Migrate the brand's terms if another analyzer made them, refresh its calibration if due, and
    publish both with a new version. Returns (migrated, calibrated); nothing is written when neither
    happened and nothing ``changed``."""
    state = store.state(brand)
    if not state:
        return False, False
    migrate = state.get("analyzer") != analyzer.version
    if migrate:
        store.set_lexical(brand, [(c.id, " ".join(analyzer(lexical_text(c)))) for c in store.iter_chunks(brand)])
    old = FusionCalibration.parse(state.get("fusion"))
    calibrate = force_calibration or needs_refresh(old, store.count(brand), analyzer.version)
    if not (migrate or calibrate or changed):
        return False, False
    fusion = Calibrator(store, embedder, analyzer).calibrate(brand).model_dump_json() if calibrate else None
    store.bump_version(brand, analyzer=analyzer.version, fusion=fusion)
    return migrate, calibrate

