"""The sidebar in a real headless Chromium against the real service on loopback.

Zendesk is played by a fake ZAF client injected into the page: it hands over the ticket, proxies
API calls adding the secret token (as Zendesk's proxy does) and records ``ticket.editor.insert``.
Screenshots are saved under ``test-artifacts/`` (or ``$COPILOT_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot.config import ApiConfig, ApiToken
from copilot.feedback import FeedbackStore
from copilot.integrations.http.app import create_app
from copilot.integrations.http.auth import hash_token
from copilot.service import Copilot
from tests.servers import free_port

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "tok-sidebar"
ARTIFACTS = Path(os.environ.get("COPILOT_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
QUESTION = "Where is my refund? I returned the chair two weeks ago."

if not os.environ.get("CI"):
    pytest.importorskip("playwright")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium fonts-noto-cjk)",
                    allow_module_level=True)

FAKE_ZAF = """
window.__inserted = [];
window.ZAFClient = { init() { return {
  metadata: async () => ({ settings: { service_url: location.origin } }),
  get: async () => ({ "ticket.id": 7, "ticket.requester.name": "Maria",
    "ticket.comments": [{ author: { role: "end-user" }, value: "<p>%s</p>" }] }),
  invoke: async (name, text) => { window.__inserted.push([name, text]); },
  request: async (opts) => {
    const res = await fetch(opts.url, { method: opts.type, body: opts.data,
      headers: { "Content-Type": opts.contentType,
                 Authorization: opts.headers.Authorization.replace("{{setting.api_token}}", "%s") } });
    const data = await res.json();
    if (!res.ok) { throw { status: res.status, responseJSON: data }; }
    return data;
  },
}; } };
"""


@pytest.fixture
def service(indexed: Copilot, tmp_path: Path) -> Iterator[tuple[str, FeedbackStore]]:
    import uvicorn

    indexed.config = indexed.config.model_copy(update={"api": ApiConfig(
        tokens=[ApiToken(name="sidebar", sha256=hash_token(TOKEN), brands=["acme"])])})
    store = indexed.parts.feedback
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(indexed), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            yield b
        finally:
            b.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_zendesk_sidebar_shows_inserts_rewrites_and_sends_feedback(service: Any, browser: Any) -> None:
    base, store = service
    page = browser.new_page()
    page.add_init_script(FAKE_ZAF % (QUESTION, TOKEN))
    page.goto(f"{base}/sidebar?origin=https://acme.zendesk.com&app_guid=x")
    page.wait_for_selector("#suggestion:not([hidden])", timeout=20_000)
    assert "5 to 7 business days" in page.inner_text("#reply")
    assert page.is_hidden("#reason-form") and page.is_hidden("#error")
    assert page.locator("#citations li").count() >= 1 and page.locator("#actions li").count() >= 1
    link = page.locator("#citations a").first
    if link.count():
        assert link.get_attribute("target") == "_blank" and link.get_attribute("href", timeout=1000).startswith("http")
    shot(page, "sidebar-zendesk")

    page.click("#insert")
    page.wait_for_function("window.__inserted.length === 1")
    name, text = page.evaluate("window.__inserted[0]")
    assert name == "ticket.editor.insert" and "5 to 7 business days" in text
    page.wait_for_function("document.getElementById('status').textContent.includes('Inserted')")

    before = page.inner_text("#reply")
    page.click("#friendlier")
    page.wait_for_function(f"document.getElementById('reply').textContent !== {json.dumps(before)}")
    page.click("#not-helpful")
    page.select_option("#reason", "wrong_tone")
    page.fill("#comment", "too stiff")
    page.click("#reason-form button[type=submit]")
    page.wait_for_function("document.getElementById('status').textContent.includes('feedback recorded')")
    assert [(r.outcome, r.reason) for r in store.records()] == [("accepted", None), ("rejected", "wrong_tone")]


def test_standalone_sidebar_renders_chinese_and_shows_errors(service: Any, browser: Any) -> None:
    import urllib.parse

    base, _ = service
    page = browser.new_page()
    text = urllib.parse.quote("我退货了，退款什么时候到账？")
    page.goto(f"{base}/sidebar?ticket=9&text={text}#token={TOKEN}")
    page.wait_for_selector("#suggestion:not([hidden])", timeout=20_000)
    reply = page.inner_text("#reply")
    assert "您好" in reply and page.get_attribute("#reply", "lang") == "zh"
    # Glyphs really render (a CJK font is installed): the reply box is not a row of empty boxes.
    width = page.evaluate("(() => { const c = document.createElement('canvas').getContext('2d');"
                          " c.font = '14px sans-serif'; return c.measureText('退款').width; })()")
    assert width > 10
    shot(page, "sidebar-standalone-zh")

    bad = browser.new_page()
    bad.goto(f"{base}/sidebar?ticket=9&text=hello#token=wrong")
    bad.wait_for_selector("#error:not([hidden])", timeout=20_000)
    assert "unknown token" in bad.inner_text("#error")
    shot(bad, "sidebar-error")
    missing = browser.new_page()
    missing.goto(f"{base}/sidebar?ticket=9#token={TOKEN}")
    missing.wait_for_selector("#error:not([hidden])", timeout=20_000)
    assert "no ticket text" in missing.inner_text("#error")
