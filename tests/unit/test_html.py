from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from copilot.retrieval.chunking import article_chunks
from copilot.retrieval.html import html_to_text
from copilot.retrieval.sources import load_kb, load_tickets

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "html"


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_help_center_page_keeps_headings_tables_links_and_drops_page_chrome() -> None:
    title, text = html_to_text(_fixture("shipping-options.html"))
    assert title == "Shipping options & delivery times – Acme Help Center"
    assert re.search(r"(?m)^# Shipping options & delivery times$", text)
    assert re.search(r"(?m)^## Delivery speeds$", text) and re.search(r"(?m)^### Where we don't ship$", text)
    # Each table row keeps its cells apart, under its header.
    assert "| Option | Delivery time | Price |" in text
    assert "| Standard | 5 days | Free over $50 |" in text and "Standard5" not in text
    assert "[Track my order](https://help.acme.example/hc/en-us/articles/360001-Track-my-order)" in text
    assert "support@acme.example" in text
    assert "The tracking page shows each step of the delivery" in text
    assert "tracking link.\nYou can also" in text  # <br>
    assert re.search(r"(?m)^- Military addresses:\n  - APO$", text)
    assert "9 a.m.–5 p.m. ET" in text and "&amp;" not in text and "&" in text
    for chrome in ("HelpCenter", "border:", "/hc/en-us/sections/1", "Submit a request", "Privacy"):
        assert chrome not in text
    assert not re.search(r"(?m)[ \t]$", text), "no trailing spaces (Markdown hard breaks)"


def test_fragment_with_ordered_sublists_quotes_and_no_emphasis_markers() -> None:
    title, text = html_to_text(_fixture("return-steps.html"))
    assert title == ""
    assert text.startswith("## How to return an item")
    assert "within 30 days of delivery" in text and "*" not in text
    assert "1. Sign in and open [Your orders](https://acme.example/account/orders)." in text
    assert re.search(r"(?m)^   1\. Select the item\.$", text)
    assert "| Credit card | 3–5 business days |" in text
    assert "> Note: Final-sale items" in text


def test_relative_links_resolve_against_the_article_url() -> None:
    _, text = html_to_text(_fixture("return-steps.html"), base_url="https://help.acme.example/hc/en-us/articles/7")
    assert "[Contact us](https://help.acme.example/hc/en-us/requests/new)" in text
    # Without a base the relative target is kept as written rather than lost.
    assert "[Contact us](/hc/en-us/requests/new)" in html_to_text(_fixture("return-steps.html")).text


@pytest.mark.parametrize(("name", "expected"), [
    ("vi-doi-tra.html", ["| Thẻ tín dụng | 3–5 ngày làm việc |", "[chính sách giao hàng](https://acme.example/vi/giao-hang)",
                         "Liên hệ: 1900 1234.", "Mã đơn hàng: ACM-12345"]),
    ("zh-tuikuan.html", ["收到退货后，我们会在5个工作日内处理退款。", "- 支付宝：1个工作日", "[退款政策](https://acme.example/zh/refunds)"]),
])
def test_vietnamese_and_chinese_articles(name: str, expected: list[str]) -> None:
    text = html_to_text(_fixture(name)).text
    for part in expected:
        assert part in text
    assert "\xa0" not in text and "trackPageView" not in text


@pytest.mark.parametrize("html", ["", "   ", "<p></p>", "<script>only()</script>", "<!-- comment -->"])
def test_empty_documents_give_empty_text(html: str) -> None:
    assert html_to_text(html) == ("", "")


def test_hostile_input_is_converted_without_crashing(caplog: pytest.LogCaptureFixture) -> None:
    # Broken markup, a lone surrogate (from a JSON "\\ud83d" escape), control characters, script URLs.
    text = html_to_text("<p>unclosed <b>bold <table><tr><td>a<td>b</table> \ud83d \x00 "
                        "<a href='javascript:alert(1)'>x</a> <a>no href</a> 5 < 6 & 7 > 3").text
    assert "| a | b |" in text and "\ufffd" in text and "no href" in text and "5 < 6 & 7 > 3" in text
    # Hidden elements are not article text.
    assert html_to_text('<p>shown<span style="display:none">HIDDEN</span><div hidden>GONE</div></p>').text == "shown"
    # Nesting past the converter's depth limit loses the deep part: that is logged, not silent.
    with caplog.at_level(logging.WARNING, logger="copilot.retrieval.html"):
        html_to_text("<div>" * 5000 + "deep" + "</div>" * 5000)
    assert "depth" in caplog.text


def test_large_page_converts_in_reasonable_time() -> None:
    import time

    page = _fixture("shipping-options.html") * 500  # ~1 MB
    t0 = time.perf_counter()
    text = html_to_text(page).text
    assert time.perf_counter() - t0 < 10
    assert text.count("| Standard | 5 days | Free over $50 |") == 500


def test_html_kb_file_chunks_by_section_with_links(tmp_path: Path) -> None:
    (tmp_path / "shipping.html").write_text(_fixture("shipping-options.html"), encoding="utf-8")
    (article,) = load_kb(tmp_path).articles
    sections = {c.title.split(" › ")[-1]: c.text for c in article_chunks(article, "acme")}
    # Short sections merge into the previous one (chunking's rule); the table stays whole.
    assert "Delivery speeds\n| Option | Delivery time | Price |" in sections["Shipping options & delivery times"]
    assert "| Express | 2 days | $9.99 |" in sections["Shipping options & delivery times"]
    assert "(https://help.acme.example/hc/en-us/articles/360001-Track-my-order)" in sections["Tracking your parcel"]


def test_helpcenter_export_and_zendesk_html_comments(tmp_path: Path) -> None:
    doc = {"articles": [{"id": 9, "title": "Returns", "body": _fixture("return-steps.html"),
                         "html_url": "https://help.acme.example/hc/en-us/articles/9-Returns"}]}
    (tmp_path / "hc.json").write_text(json.dumps(doc), encoding="utf-8")
    (article,) = load_kb(tmp_path / "hc.json").articles
    assert "[Contact us](https://help.acme.example/hc/en-us/requests/new)" in article.body
    assert "| PayPal | 1 day |" in article.body
    export = {"tickets": [{"id": 1, "status": "solved", "requester_id": 7, "comments": [
        {"author_id": 7, "html_body": "<p>Where is <b>my</b> order?</p>"},
        {"author_id": 8, "html_body": '<p>Track it <a href="https://acme.example/track">here</a>.</p>'}]}]}
    (tmp_path / "t.json").write_text(json.dumps(export), encoding="utf-8")
    (ticket,) = load_tickets(tmp_path / "t.json").tickets
    assert [m.body for m in ticket.messages] == ["Where is my order?", "Track it [here](https://acme.example/track)."]
