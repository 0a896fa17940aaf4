"""Incremental ingestion: load -> screen -> redact + chunk -> compare content hashes -> embed -> upsert.

Only new or changed sources are embedded; ``prune`` deletes sources of the
ingested brands that no longer appear in the inputs. Bad records are reported
with file and line and never stop the good ones; suspicious ones are quarantined
(``quarantine.py``). Ids are unique per brand: two brands may both have ``refunds.md``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from copilot.limits import Limits
from copilot.models import Article, Chunk, Ticket
from copilot.retrieval.chunking import article_chunks, ticket_chunks
from copilot.retrieval.domains import BrandDomains, learned_domains
from copilot.retrieval.embeddings import Embedder
from copilot.retrieval.quarantine import article_reasons, ticket_reasons
from copilot.retrieval.sources import Loaded, load_kb, load_tickets
from copilot.retrieval.store import ChromaStore
from copilot.text import tokenize

__all__ = ["IngestSummary", "Ingestor"]

EMBED_BATCH = 64


class IngestSummary(BaseModel):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_embedded: int = 0
    skipped: list[tuple[str, str]] = Field(default_factory=list)
    # (source id, why): suspicious sources, not indexed (and removed from the index if they were).
    quarantined: list[tuple[str, str]] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


# (brand, source id): the same id in two brands is two sources.
_Key = tuple[str, str]


@dataclass
class _Plan:
    chunks: list[Chunk] = field(default_factory=list)
    added: set[_Key] = field(default_factory=set)
    updated: set[_Key] = field(default_factory=set)
    unchanged: int = 0


class Ingestor:
    def __init__(self, store: ChromaStore, embedder: Embedder, *, default_brand: str = "default",
                 domains: BrandDomains | None = None, limits: Limits | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.default_brand = default_brand
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
        for t, b in tks:
            self._claim(by_source, ticket_chunks(t, b), summary)

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
        for b in changed:
            self.store.bump_version(b)
        if self.domains is not None:
            self.domains.invalidate()
        summary.seconds = time.perf_counter() - t0
        return summary

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

        def quarantine(sid: str, b: str, reasons: list[str]) -> None:
            summary.quarantined.append((sid, f"{'; '.join(reasons)} (brand {b})"))
            quarantined.append((b, sid))

        kept_articles = []
        for a, b in articles:
            problem = self.limits.article_problem(a)
            if problem:
                summary.errors.append(f"article:{a.id} ({b}): {problem}; skipped")
                continue
            reasons = article_reasons(a, allowed(b))
            if reasons:
                quarantine(f"article:{a.id}", b, reasons)
                continue
            kept_articles.append((a, b))
        kept_tickets = []
        for t, b in tickets:
            problem = "a ticket without an id cannot be stored" if not t.id.strip() else self.limits.ticket_problem(t)
            if problem:
                summary.errors.append(f"ticket:{t.id or '?'} ({b}): {problem}; skipped")
                continue
            reasons = ticket_reasons(t, allowed(b))
            if reasons:
                quarantine(f"ticket:{t.id}", b, reasons)
                continue
            kept_tickets.append((t, b))
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
            for i in range(0, len(chunks), EMBED_BATCH):
                batch = chunks[i : i + EMBED_BATCH]
                vectors = self.embedder.embed_documents([_embed_text(c) for c in batch])
                lex = [" ".join(tokenize(_lexical_text(c))) for c in batch]
                self.store.upsert(batch, vectors, lex)
                summary.chunks_embedded += len(batch)
                if bar is not None:
                    bar.update(len(batch))
                if on_progress is not None:
                    on_progress(summary.chunks_embedded, len(chunks))
        finally:
            if bar is not None:
                bar.close()


def _embed_text(c: Chunk) -> str:
    # A ticket is found by the problem it describes; an article by its content.
    return c.text


def _lexical_text(c: Chunk) -> str:
    return f"{c.text}\n{c.resolution[:400]}" if c.kind == "ticket" else c.text

