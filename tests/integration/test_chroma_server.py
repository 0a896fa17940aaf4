"""The same ingest and search against a real `chroma run` server on loopback, chosen by settings alone."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.config import CopilotConfig
from copilot.service import Copilot
from copilot.settings import Settings
from tests.conftest import CountingEmbedder

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("chroma server did not start")
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_ingest_and_suggest_through_a_chroma_server(chroma_server: int, tmp_path: Path, corpus: dict[str, Path],
                                                    config: CopilotConfig) -> None:
    settings = Settings(data_dir=tmp_path / "unused", embedder="hash", chroma_host="127.0.0.1",
                        chroma_port=chroma_server)
    cp = Copilot(settings, config=config, embedder=CountingEmbedder())
    s = cp.ingest([corpus["kb"]], [corpus["tickets"]], progress=False)
    assert s.added == 11 and s.errors == []
    assert cp.store.location == f"http://127.0.0.1:{chroma_server}"
    assert not (tmp_path / "unused" / "chroma").exists()

    # A second process-like client sees the same data and the lexical index follows the store's version.
    other = Copilot(settings, config=config, embedder=CountingEmbedder())
    hits = other.search("Where is my refund? I returned the chair two weeks ago.", brand="acme")
    assert hits and all(h.chunk.brand == "acme" for h in hits)
    assert any(h.lexical is not None for h in hits)
    suggestion = other.suggest("Where is my refund? I returned the chair two weeks ago.")
    assert suggestion.citations and "5 to 7 business days" in suggestion.reply

    again = cp.ingest([corpus["kb"]], [corpus["tickets"]], progress=False)
    assert again.unchanged == 11 and again.chunks_embedded == 0
