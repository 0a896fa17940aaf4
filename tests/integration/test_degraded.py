"""Honest status codes when a dependency is down: the index (a Chroma server) or the database is a
503 with Retry-After, never a 4xx the caller would take as its own fault; /readyz names what is down;
Slack unreachable at start leaves the API serving and comes back by itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from copilot.config import ApiConfig, ApiToken, CopilotConfig
from copilot.feedback import FeedbackStore
from copilot.integrations.http.app import create_app
from copilot.integrations.http.auth import hash_token
from copilot.service import Copilot
from copilot.serving import SlackMount, build_service
from copilot.settings import Settings
from tests.conftest import CountingEmbedder
from tests.servers import free_port
from tests.slack_mock import mock_slack

pytestmark = pytest.mark.integration
TOKEN = "tok"
TICKET = {"brand": "acme", "messages": [{"author": "customer", "body": "Where is my refund?"}]}


def with_token(config: CopilotConfig) -> CopilotConfig:
    return config.model_copy(update={"api": ApiConfig(tokens=[ApiToken(name="t", sha256=hash_token(TOKEN),
                                                                         brands=["*"])])})


def client_for(cp: Copilot) -> TestClient:
    return TestClient(create_app(cp), headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A Chroma server of this test's own, to stop mid-test."""
    import urllib.request

    port = free_port()
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).read()
            break
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, "chroma did not start"
            time.sleep(0.2)
    try:
        yield port, proc
    finally:
        proc.kill()
        proc.wait()


def test_the_index_going_down_is_a_503_with_retry_after_and_readyz_names_it(
        chroma: tuple[int, subprocess.Popen[bytes]], corpus: dict[str, Path], config: CopilotConfig,
        tmp_path: Path) -> None:
    port, proc = chroma
    settings = Settings(data_dir=tmp_path / "d", embedder="hash", chroma_host="127.0.0.1", chroma_port=port)
    cp = Copilot(settings, config=with_token(config), embedder=CountingEmbedder())
    assert cp.ingest([corpus["kb"]], progress=False).ok
    with client_for(cp) as c:
        assert c.post("/v1/suggestions", json=TICKET).status_code == 200
        proc.kill()
        proc.wait()
        for r in (c.post("/v1/suggestions", json=TICKET), c.get("/v1/search", params={"q": "refund"})):
            assert r.status_code == 503 and r.headers["Retry-After"].isdigit(), r.text
            assert r.json()["error"]["code"] in {"unavailable", "store_error"} and r.json()["error"]["request_id"]
        ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["index"].startswith("failing")
        assert ready.json()["checks"]["feedback_store"] == "ok"
        assert c.get("/healthz").status_code == 200  # alive: restarting it would not bring Chroma back


def test_an_index_that_cannot_be_reached_at_start_is_a_503(config: CopilotConfig, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", embedder="hash", chroma_host="127.0.0.1", chroma_port=free_port())
    cp = Copilot(settings, config=with_token(config), embedder=CountingEmbedder())
    with client_for(cp) as c:
        r = c.post("/v1/suggestions", json=TICKET)
        assert r.status_code == 503 and r.json()["error"]["code"] == "store_error" and "Retry-After" in r.headers


def test_the_database_going_down_is_a_503_and_readyz_names_it(indexed: Copilot, config: CopilotConfig) -> None:
    down = FeedbackStore.__new__(FeedbackStore)  # a store whose server is gone: nothing listens on its port
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    down.url = f"postgresql+pg8000://copilot@127.0.0.1:{free_port()}/copilot"
    down.engine = create_engine(down.url)
    down.session = sessionmaker(down.engine, expire_on_commit=False)
    cp = Copilot(indexed.settings, config=with_token(config), embedder=indexed.embedder, feedback=down)
    with client_for(cp) as c:
        r = c.post("/v1/suggestions", json=TICKET)  # drafted, then saving what was shown fails
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable" and r.headers["Retry-After"]
        assert "database" in r.json()["error"]["message"]
        ready = c.get("/readyz").json()
        assert ready["status"] == "not_ready" and ready["checks"]["feedback_store"].startswith("failing")
        assert ready["checks"]["index"] == "ok"
        assert c.get("/v1/search", params={"q": "refund", "brand": "acme"}).status_code == 200  # search needs no database


def test_slack_unreachable_at_start_leaves_the_rest_serving_and_comes_back(indexed: Copilot,
                                                                          config: CopilotConfig) -> None:
    indexed.config = with_token(config)
    indexed.settings.slack_bot_token = SecretStr("xoxb-test")
    indexed.settings.slack_signing_secret = SecretStr("secret")
    from slack_sdk import WebClient

    port = free_port()  # nothing listens there yet: Slack is "down"
    app = build_service(indexed, slack_client=WebClient(token="xoxb-test", base_url=f"http://127.0.0.1:{port}/"))
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["slack"].startswith("failing")
        assert c.post("/v1/suggestions", json=TICKET).status_code == 200
        slack = c.post("/slack/events", content=b"{}")
        assert slack.status_code == 503 and slack.headers["Retry-After"]
    app.state.slack.stop()


def test_slack_is_built_again_in_the_background_until_it_works(indexed: Copilot) -> None:
    indexed.settings.slack_bot_token = SecretStr("xoxb-test")
    indexed.settings.slack_signing_secret = SecretStr("secret")
    from slack_sdk import WebClient

    with mock_slack() as mock:
        mock.fail["auth.test"] = "service_unavailable"  # Slack answers, but not yet with success
        mount = SlackMount(indexed, client=WebClient(token="xoxb-test", base_url=mock.base_url + "/"), retry_s=0.2)
        mount.start()
        try:
            assert mount.status().startswith("failing")
            mock.fail.clear()
            deadline = time.monotonic() + 10
            while mount.status() != "ok":
                assert time.monotonic() < deadline, mount.status()
                time.sleep(0.1)
        finally:
            mount.stop()
