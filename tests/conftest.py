from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from copilot.config import CopilotConfig, load_config
from copilot.retrieval.embeddings import HashEmbedder
from copilot.service import Copilot
from copilot.settings import Settings
from tests.servers import free_port, running


class CountingEmbedder(HashEmbedder):
    """The deterministic fake embedder, counting what it embeds (to prove incremental ingest)."""

    def __init__(self) -> None:
        super().__init__(dim=256)
        self.documents_embedded = 0

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        self.documents_embedded += len(texts)
        return super().embed_documents(texts)


ARTICLES = [
    {"id": "refunds", "title": "Refund timing", "brand": "acme", "locale": "en",
     "url": "https://help.acme.example/refunds",
     "body": "# Refund timing\n\n## When will I get my refund\nWe issue the refund within 2 business days after the "
             "returned item reaches our warehouse. Your bank then needs 5 to 7 business days to show the refund.\n\n"
             "## Refund method\nRefunds always go back to the original payment method used for the order."},
    {"id": "shipping", "title": "Shipping times", "brand": "acme", "locale": "en",
     "body": "Standard shipping takes 3 to 5 business days. Express shipping takes 1 to 2 business days and costs "
             "$14.95."},
    {"id": "globex-refunds", "title": "Globex refund policy", "brand": "globex", "locale": "en",
     "body": "Globex refunds the refund within 30 business days after the returned item reaches the warehouse, "
             "secret globex policy."},
    {"id": "vi-doi-tra", "title": "Chính sách đổi trả", "brand": "acme", "locale": "vi",
     "body": "Bạn có thể trả lại sản phẩm trong vòng 30 ngày để được hoàn tiền đầy đủ. Chúng tôi hoàn tiền trong "
             "vòng 2 ngày làm việc sau khi nhận được hàng trả lại."},
    {"id": "zh-tuikuan", "title": "退款政策", "brand": "acme", "locale": "zh",
     "body": "仓库收到退货后，我们会在2个工作日内办理退款。银行通常需要5到7个工作日到账。"},
]

TICKETS = [
    {"id": "A1", "status": "solved", "brand": "acme", "actions": ["refund"], "tags": ["refund"],
     "messages": [{"author": "customer", "body": "Where is my refund? I returned the chair two weeks ago. "
                   "Email me at jane.doe@example.com"},
                  {"author": "agent", "body": "Hi Jane, we issue the refund within 2 business days after the return "
                   "reaches our warehouse, and your bank needs 5 to 7 business days to show it. I checked your "
                   "order #A55321 and it arrived yesterday."}]},
    {"id": "A2", "status": "closed", "brand": "acme", "actions": ["refund"],
     "messages": [{"author": "customer", "body": "My refund has not arrived, I returned the lamp last week."},
                  {"author": "agent", "body": "Thanks for waiting! The refund is issued within 2 business days after "
                   "the return reaches our warehouse; your bank then takes 5 to 7 business days."}]},
    {"id": "A3", "status": "solved", "brand": "acme", "actions": ["track_order"],
     "messages": [{"author": "customer", "body": "My package has not arrived and tracking is not updating."},
                  {"author": "agent", "body": "Sorry for the wait. Tracking can lag; if it has not changed for 5 "
                   "business days we open an investigation with the carrier."}]},
    {"id": "A4", "status": "open", "brand": "acme",
     "messages": [{"author": "customer", "body": "Open ticket about a refund"},
                  {"author": "agent", "body": "Looking into it"}]},
    {"id": "G1", "status": "solved", "brand": "globex", "actions": ["escalate"],
     "messages": [{"author": "customer", "body": "Where is my refund? I returned the chair two weeks ago."},
                  {"author": "agent", "body": "Globex secret answer: refunds take 30 business days at Globex."}]},
    {"id": "V1", "status": "solved", "brand": "acme", "locale": "vi", "actions": ["refund"],
     "messages": [{"author": "customer", "body": "Tôi đã trả hàng mà chưa nhận được hoàn tiền."},
                  {"author": "agent", "body": "Chúng tôi hoàn tiền trong vòng 2 ngày làm việc sau khi kho nhận được "
                   "hàng trả lại, ngân hàng cần thêm 5 đến 7 ngày làm việc."}]},
    {"id": "Z1", "status": "solved", "brand": "acme", "locale": "zh", "actions": ["refund"],
     "messages": [{"author": "customer", "body": "我退货了，退款什么时候到账？"},
                  {"author": "agent", "body": "仓库收到退货后我们会在2个工作日内办理退款，银行通常需要5到7个工作日到账。"}]},
]

CONFIG = """
default_brand: acme
brands:
  acme:
    name: Acme
    greeting: {en: "Hi {name},", vi: "Chào {name},"}
    greeting_anonymous: {en: "Hello from Acme,", vi: "Chào bạn,", zh: "您好，"}
    sign_off: {en: "Cheers,\\nAcme Care", vi: "Trân trọng,\\nAcme", zh: "祝好，\\nAcme"}
    disclaimers: {en: "Acme will never ask for your password."}
    banned_phrases: {"unfortunately": "I'm sorry, but"}
  globex:
    name: Globex
"""


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    kb = write_jsonl(tmp_path / "kb.jsonl", ARTICLES)
    tickets = write_jsonl(tmp_path / "tickets.jsonl", TICKETS)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return {"kb": kb, "tickets": tickets, "config": config, "dir": tmp_path}


@pytest.fixture
def config(corpus: dict[str, Path]) -> CopilotConfig:
    return load_config(corpus["config"])


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def copilot(tmp_path: Path, corpus: dict[str, Path], config: CopilotConfig, embedder: CountingEmbedder) -> Copilot:
    settings = Settings(data_dir=tmp_path / "data", embedder="hash")
    return Copilot(settings, config=config, embedder=embedder)


@pytest.fixture
def indexed(copilot: Copilot, corpus: dict[str, Path]) -> Copilot:
    summary = copilot.ingest([corpus["kb"]], [corpus["tickets"]], progress=False)
    assert summary.ok, summary.errors
    return copilot


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    with running([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                 f"http://127.0.0.1:{port}/api/v2/heartbeat", name="chroma server", timeout_s=30):
        yield port


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server for the session (Debian's packages); skipped where it is not installed,
    except in CI, which installs it."""
    import os

    from tests.postgres import binaries, postgres_server

    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(postgres: str) -> str:
    """A fresh database on the session's PostgreSQL server."""
    from tests.postgres import fresh_database

    return fresh_database(postgres)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, corpus: dict[str, Path], tmp_path: Path) -> Path:
    """The CLI on the test corpus: hash embeddings, a fresh data dir, the corpus's config."""
    monkeypatch.setenv("COPILOT_EMBEDDER", "hash")
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("COPILOT_CONFIG", str(corpus["config"]))
    return tmp_path
