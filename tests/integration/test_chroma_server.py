"""The same ingest and search against a real `chroma run` server on loopback, chosen by settings alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.config import CopilotConfig
from copilot.service import Copilot
from copilot.settings import Settings
from tests.conftest import CountingEmbedder

pytestmark = pytest.mark.integration


def test_ingest_and_suggest_through_a_chroma_server(chroma_server: int, tmp_path: Path, corpus: dict[str, Path],
                                                    config: CopilotConfig) -> None:
    settings = Settings(data_dir=tmp_path / "unused", embedder="hash", chroma_host="127.0.0.1",
                        chroma_port=chroma_server)
    cp = Copilot(settings, config=config, embedder=CountingEmbedder())
    s = cp.ingest([corpus["kb"]], [corpus["tickets"]], progress=False)
    assert s.added == 11 and s.errors == []
    assert cp.parts.store.location == f"http://127.0.0.1:{chroma_server}"
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
