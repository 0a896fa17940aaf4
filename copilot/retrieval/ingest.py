"""Incremental ingestion: load -> redact + chunk -> compare content hashes -> embed -> upsert.

Only new or changed sources are embedded; ``prune`` deletes sources of the
ingested brands that no longer appear in the inputs. Bad records are reported
with file and line and never stop the good ones.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from copilot.models import Article, Chunk, Ticket
from copilot.retrieval.chunking import article_chunks, ticket_chunks
from copilot.retrieval.embeddings import Embedder
from copilot.retrieval.sources import Loaded, load_kb, load_tickets
from copilot.retrieval.store import ChromaStore
from copilot.text import tokenize

__all__ = ["BrandLearned", "IngestSummary", "Ingestor"]

EMBED_BATCH = 64


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
    skipped: list[tuple[str, str]] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    brands: list[str] = Field(default_factory=list)          # brands whose sources changed
    learned: list[BrandLearned] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Plan:
    chunks: list[Chunk] = field(default_factory=list)
    added: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    unchanged: int = 0


class Ingestor:
    def __init__(self, store: ChromaStore, embedder: Embedder, *, default_brand: str = "default") -> None:
        self.store = store
        self.embedder = embedder
        self.default_brand = default_brand

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
        by_source: dict[str, list[Chunk]] = {}
        for a in articles:
            chunks = article_chunks(a, brand or a.brand or self.default_brand)
            self._claim(by_source, chunks, summary)
        for t in tickets:
            chunks = ticket_chunks(t, brand or t.brand or self.default_brand)
            self._claim(by_source, chunks, summary)

        by_brand: dict[str, list[str]] = {}
        for sid, chunks in by_source.items():
            by_brand.setdefault(chunks[0].brand, []).append(sid)
        stored: dict[str, tuple[str, int]] = {}
        for b, sids in by_brand.items():
            stored.update(self.store.source_hashes(b, sids))
        plan = _Plan()
        stale: list[tuple[str, str]] = []
        for sid, chunks in by_source.items():
            old = stored.get(sid)
            if old is not None and old[0] == chunks[0].source_hash:
                plan.unchanged += 1
                continue
            (plan.updated if old else plan.added).add(sid)
            if old and old[1] > len(chunks):
                stale.append((chunks[0].brand, sid))  # fewer sections now: old tail chunks must go
            plan.chunks.extend(chunks)

        changed = {c.brand for c in plan.chunks}
        for b, sid in stale:
            self.store.delete_sources(b, [sid])
        self._embed_and_store(plan.chunks, summary, progress, on_progress)
        summary.added, summary.updated, summary.unchanged = len(plan.added), len(plan.updated), plan.unchanged

        if prune:
            for b in set(by_brand) or {brand or self.default_brand}:
                gone = [sid for sid in self.store.sources(b) if sid not in by_source]
                if gone:
                    self.store.delete_sources(b, gone)
                    summary.removed += len(gone)
                    changed.add(b)
        for b in changed:
            self.store.bump_version(b)
        summary.brands = sorted(changed)
        summary.seconds = time.perf_counter() - t0
        return summary

    @staticmethod
    def _claim(by_source: dict[str, list[Chunk]], chunks: list[Chunk], summary: IngestSummary) -> None:
        sid = chunks[0].source_id
        if sid in by_source:
            summary.skipped.append((sid, "duplicate id in this ingest (the first one was kept)"))
            return
        by_source[sid] = chunks

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

