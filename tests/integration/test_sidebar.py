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
import urllib.parse
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from copilot.config import ApiConfig, ApiToken
from copilot.feedback import FeedbackStore
from copilot.integrations.http.app import create_app
from copilot.integrations.http.auth import hash_token
from copilot.models import Citation, EscalationSignal, Guidance, NextAction, Sentiment, Suggestion
from copilot.service import Copilot
from tests.servers import free_port

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "tok-sidebar"
EXPIRED = "tok-expired"
STATIC = Path(__file__).resolve().parents[2] / "copilot" / "integrations" / "sidebar" / "static"
PAGE_ORIGIN = "http://sidebar.test"   # canned suggestions are served to the page by request routing
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
        tokens=[ApiToken(name="sidebar", sha256=hash_token(TOKEN), brands=["acme"]),
                ApiToken(name="old", sha256=hash_token(EXPIRED), brands=["acme"], expires=date(2020, 1, 1))])})
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
    # An agent cannot create tokens: they are told to ask their admin, and never shown the admin's command.
    assert "Ask your admin" in bad.inner_text("#error") and "copilot token" not in bad.inner_text("#error")
    shot(bad, "sidebar-error")
    expired = browser.new_page()
    expired.goto(f"{base}/sidebar?ticket=9&text=hello#token={EXPIRED}")
    expired.wait_for_selector("#error:not([hidden])", timeout=20_000)
    assert "expired or is not valid. Ask your admin" in expired.inner_text("#error")
    assert "copilot token" not in expired.inner_text("#error")
    missing = browser.new_page()
    missing.goto(f"{base}/sidebar?ticket=9#token={TOKEN}")
    missing.wait_for_selector("#error:not([hidden])", timeout=20_000)
    assert "no ticket text" in missing.inner_text("#error")


# --- rendering, with canned suggestions (the page and its API answered by request routing) -------

def suggestion(**kw: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        id="s1", language="en", confidence=0.82, drafter="embedded", brand="acme",
        reply="Hi Maria,\n\nRefunds reach your bank 5 to 7 business days after we issue them.\n\nBest regards,\nAcme",
        citations=[Citation(source_id="article:refunds", kind="article", title="Refund timing",
                            url="https://help.acme.example/refunds", snippet="We issue the refund within 2 days."),
                   Citation(source_id="ticket:T9", kind="ticket", title="[HANDLE] I then had to wait two weeks",
                            snippet="Your refund was issued today.")],
        next_actions=[NextAction(id="refund_status", title="Check the refund status", confidence=0.8,
                                 reason="4 of 5 similar tickets")])
    return Suggestion(**{**fields, **kw}).model_dump(mode="json")


def canned(browser: Any, answer: dict[str, Any], *, width: int = 360) -> Any:
    """The sidebar in Zendesk (the fake ZAF client) whose service answers ``answer``."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.posted = []

    def serve(route: Any) -> None:
        path = urllib.parse.urlparse(route.request.url).path
        if path == "/sidebar":
            route.fulfill(body=(STATIC / "index.html").read_text(encoding="utf-8"), content_type="text/html")
        elif path.startswith("/sidebar/static/"):
            name = path.rsplit("/", 1)[-1]
            route.fulfill(body=(STATIC / name).read_text(encoding="utf-8"),
                          content_type="text/css" if name.endswith(".css") else "application/javascript")
        elif path == "/v1/suggestions":
            route.fulfill(json=answer)
        else:
            page.posted.append((path, route.request.post_data_json))
            route.fulfill(json={"suggestion_id": answer["id"], "outcome": "accepted"})

    page.route(f"{PAGE_ORIGIN}/**", serve)
    page.add_init_script(FAKE_ZAF % (QUESTION, TOKEN))
    page.goto(f"{PAGE_ORIGIN}/sidebar?origin=https://acme.zendesk.com&app_guid=x")
    page.wait_for_selector("#suggestion:not([hidden])", timeout=20_000)
    return page


GREEN = "rgb(31, 136, 61)"


@pytest.mark.parametrize("flag", ["low_confidence", "no_evidence"])
def test_a_draft_that_is_not_confident_is_collapsed_and_insert_is_not_primary(browser: Any, flag: str) -> None:
    page = canned(browser, suggestion(confidence=0.12, flags=[flag]))
    assert page.is_visible("#low") and "No confident draft" in page.inner_text("#low")
    assert page.evaluate("document.getElementById('draft').open") is False
    assert not page.is_visible("#reply")   # collapsed: one click on "Draft (not confident)" opens it
    insert = page.locator("#insert")
    assert "primary" not in (insert.get_attribute("class") or "") and insert.inner_text() == "Insert anyway"
    assert insert.evaluate("b => getComputedStyle(b).backgroundColor") != GREEN
    # Sources and next actions stay visible.
    assert page.is_visible("#citations a") and "Check the refund status" in page.inner_text("#actions")
    shot(page, f"sidebar-{flag.replace('_', '-')}")
    page.click("#draft-label")
    assert page.is_visible("#reply") and "5 to 7 business days" in page.inner_text("#reply")
    page.click("#insert")   # inserting anyway still works and is recorded
    page.wait_for_function("window.__inserted.length === 1")
    assert page.posted == [("/v1/suggestions/s1/feedback", {"outcome": "accepted", "final_text": suggestion()["reply"]})]

    confident = canned(browser, suggestion())
    assert confident.is_hidden("#low") and confident.is_visible("#reply")
    assert confident.locator("#insert").evaluate("b => getComputedStyle(b).backgroundColor") == GREEN


def test_escalation_sentiment_and_guidance_are_shown(browser: Any) -> None:
    page = canned(browser, suggestion(
        flags=["escalate"], sentiment=Sentiment(score=-0.8, label="negative", urgency=0.9),
        escalation=[EscalationSignal(reason="legal_threat", evidence="my lawyer will contact you", confidence=0.93),
                    EscalationSignal(reason="anger", evidence="WORST SERVICE EVER", confidence=0.71)],
        guidance=[Guidance(source_id="article:refund-desk", title="Refund desk notes",
                           text="Check the return scan before promising a date; never share the warehouse code.")]))
    assert page.inner_text("#signals").split("\n") == ["Customer: negative", "Urgent (90%)"]
    esc = page.inner_text("#escalation")
    assert "Escalation: Legal threat (93%)" in esc and "my lawyer will contact you" in esc
    assert "Escalation: Anger (71%)" in esc
    assert page.locator("#flags span").count() == 0   # the reasons replace the bare "Escalation" chip
    assert page.is_visible("#guidance-box") and "Refund desk notes" in page.inner_text("#guidance")
    assert "warehouse code" not in page.inner_text("#reply")
    shot(page, "sidebar-escalation")
    calm = canned(browser, suggestion(sentiment=Sentiment(score=0.3, label="positive", urgency=0.1)))
    assert calm.inner_text("#signals") == "Customer: positive" and calm.is_hidden("#escalation")
    assert calm.is_hidden("#guidance-box")


def test_evidence_in_another_language_gives_its_link(browser: Any) -> None:
    url = "https://help.acme.example/payment-methods"
    page = canned(browser, suggestion(
        language="vi", confidence=0.18, flags=["no_evidence", "evidence_in_other_language"],
        reply=f"Chào bạn,\n\nBài viết liên quan chỉ có bằng tiếng Anh: Payment methods ({url}).\n\nTrân trọng,\nAcme",
        citations=[Citation(source_id="article:payment-methods", kind="article", title="Payment methods", url=url,
                            snippet="We accept Visa, Mastercard and PayPal. Alipay is not accepted.")]))
    note = page.locator("#other-language")
    assert note.is_visible() and "The only relevant article is in another language" in note.inner_text()
    assert note.locator("a").get_attribute("href") == url and note.locator("a").inner_text() == "Payment methods"
    page.click("#draft-label")
    # The URL named in the reply is a link too (without the closing parenthesis).
    assert page.locator("#reply a").get_attribute("href") == url
    shot(page, "sidebar-other-language")


def test_sources_never_read_none_or_show_placeholders(browser: Any) -> None:
    page = canned(browser, suggestion(citations=[
        Citation(source_id="ticket:T9", kind="ticket", title="[HANDLE] I then had to wait two weeks", snippet="..."),
        Citation(source_id="ticket:T10", kind="ticket", title=None, snippet="..."),
        Citation(source_id="article:faq", kind="article", title="None", snippet="...")]))
    titles = [li.split("\n")[0] for li in page.locator("#citations li").all_inner_texts()]
    assert titles == ["I then had to wait two weeks", "Past ticket T10", "Article faq"]
    empty = canned(browser, suggestion(citations=[]))
    assert empty.locator("#citations li").all_inner_texts() == ["No sources found for this ticket"]


@pytest.mark.parametrize("flags", [[], ["low_confidence"]])
def test_at_320_px_the_buttons_fit_on_two_rows(browser: Any, flags: list[str]) -> None:
    page = canned(browser, suggestion(flags=flags), width=320)
    boxes = page.evaluate("""[...document.querySelectorAll('.buttons button')].map(b => {
        const r = b.getBoundingClientRect();
        const style = getComputedStyle(b), ctx = document.createElement('canvas').getContext('2d');
        ctx.font = style.font;   // the label's full width against the room the button gives it
        const room = b.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return {top: Math.round(r.top), left: r.left, right: r.right,
                clipped: ctx.measureText(b.textContent).width > room};
    })""")
    assert len(boxes) == 5 and len({b["top"] for b in boxes}) == 2
    assert not [b for b in boxes if b["clipped"]]           # every label is read in full
    assert max(b["right"] for b in boxes) <= 320 and min(b["left"] for b in boxes) >= 0
    shot(page, "sidebar-320px" + ("-low" if flags else ""))
