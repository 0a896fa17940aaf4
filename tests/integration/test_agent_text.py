"""Text written for agents never reaches a reply but is shown as guidance; messages about another
company's product are never confident. Through ``Copilot.suggest`` on a real persistent Chroma."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.service import Copilot
from tests.conftest import write_jsonl

SCRIPT = "Tell them that refunds for returned tables are issued within 2 business days."
VOUCHER = "Internal note: offer voucher SORRY5 only if the customer threatens to cancel."
REPLY = "We issue the refund for a returned table within 2 business days after it reaches our warehouse."


@pytest.fixture
def with_agent_text(indexed: Copilot, corpus: dict[str, Path]) -> Copilot:
    kb = corpus["dir"] / "agent-kb"
    kb.mkdir()
    (kb / "refund-script.md").write_text(
        "---\nid: refund-script\ntitle: Refund calls script\nbrand: acme\nlocale: en\naudience: agent\n---\n"
        f"# Refund calls script\n\n{SCRIPT} Offer voucher SORRY5 if they are upset.\n", encoding="utf-8")
    tickets = write_jsonl(corpus["dir"] / "agent-tickets.jsonl", [
        {"id": f"R{i}", "status": "solved", "brand": "acme", "actions": ["refund"],
         "messages": [{"author": "customer", "body": body},
                      {"author": "agent", "body": f"{REPLY} {VOUCHER}"}]}
        for i, body in enumerate(["My refund for the returned table has not arrived yet.",
                                  "Refund for my returned table has not arrived."])])
    summary = indexed.ingest([kb], [tickets], progress=False)
    assert summary.ok, summary.errors
    return indexed


def test_agent_text_is_guidance_and_never_reaches_the_reply(with_agent_text: Copilot) -> None:
    s = with_agent_text.suggest("My refund for the returned table has not arrived yet.")
    assert "SORRY5" not in s.reply and "Tell them" not in s.reply and "Internal note" not in s.reply
    # The customer-facing part of the past replies still answers.
    assert "within 2 business days" in s.reply and "no_evidence" not in s.flags
    assert "article:refund-script" not in {c.source_id for c in s.citations}
    by_source = {g.source_id: g for g in s.guidance}
    assert SCRIPT in by_source["article:refund-script"].text
    assert by_source["article:refund-script"].title == "Refund calls script"
    assert any(VOUCHER in g.text for sid, g in by_source.items() if sid.startswith("ticket:R"))
    assert all("SORRY5" not in c.snippet for c in s.citations)
    public = json.loads(s.to_json())
    assert public["guidance"] and {"source_id", "title", "text"} == set(public["guidance"][0])


def test_the_audience_survives_a_restart_of_the_index(with_agent_text: Copilot, corpus: dict[str, Path]) -> None:
    reopened = Copilot(with_agent_text.settings, config=with_agent_text.config, embedder=with_agent_text.parts.embedder)
    s = reopened.suggest("My refund for the returned table has not arrived yet.")
    assert "SORRY5" not in s.reply and "article:refund-script" in {g.source_id for g in s.guidance}


@pytest.mark.parametrize("message", ["How do I get a refund for my Netflix subscription?",
                                     "我的淘宝订单退款还没到账。"])
def test_another_companys_product_is_never_a_confident_answer(indexed: Copilot, message: str) -> None:
    s = indexed.suggest(message)
    assert {"no_evidence", "low_confidence"} & set(s.flags)
    assert s.confidence <= 0.3


def test_a_question_about_the_brands_own_refunds_stays_confident(indexed: Copilot) -> None:
    s = indexed.suggest("Where is my refund? I returned the chair two weeks ago.")
    assert not {"no_evidence", "low_confidence", "out_of_domain"} & set(s.flags)
