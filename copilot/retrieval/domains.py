"""The domains a brand's replies may link to and its sources may mention.

By default, the brand's own: the hosts of its knowledge-base article URLs (help.acme.com) and the
organisation's domain behind them (acme.com, so support@acme.com is the brand's too; a tenant of a
shared platform such as acme.zendesk.com stays just that host). A brand profile's
``allowed_domains`` extends them. Learned domains are read from the index itself, so every replica
sees what any ingest learned, and a removed article takes its domain with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from copilot.poisoning import domains_of, site_of
from copilot.retrieval.store import ChromaStore

__all__ = ["BrandDomains", "learned_domains"]


def learned_domains(urls: Iterable[str | None]) -> set[str]:
    hosts = domains_of(urls)
    return hosts | {s for h in hosts if (s := site_of(h))}


class BrandDomains:
    def __init__(self, store: ChromaStore, configured: Callable[[str], Iterable[str]], *,
                 refresh_s: float = 30.0) -> None:
        self.store = store
        self.configured = configured
        self.refresh_s = refresh_s
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def allowed(self, brand: str) -> set[str]:
        """The brand's configured domains and those learned from its article URLs."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(brand)
        if hit is None or now - hit[0] > self.refresh_s:
            learned = frozenset(learned_domains(self.store.article_urls(brand)))
            with self._lock:
                self._cache[brand] = (now, learned)
            hit = (now, learned)
        return {d.lower() for d in self.configured(brand)} | hit[1]

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()
