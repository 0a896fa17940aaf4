"""Block Kit payloads: golden files, and Slack's documented limits on any reply."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from copilot.feedback import FeedbackStats
from copilot.integrations.slack import blocks as ui
from copilot.models import Citation, NextAction, Suggestion

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def suggestion(reply: str = "Hi Maria,\n\nRefunds reach your bank 5 to 7 business days after we issue them.\n\n"
               "Cheers,\nAcme Care", **kw: Any) -> Suggestion:
    fields: dict[str, Any] = dict(
        id="s1", reply=reply, language="en", confidence=0.82, drafter="embedded", prompt_version="embedded_reply/v2",
        citations=[Citation(source_id="article:refunds", kind="article", title="Refund timing",
                            url="https://help.acme.example/refunds", snippet="We issue the refund within 2 days."),
                   Citation(source_id="ticket:T1", kind="ticket", title="Where is my refund? <b>", snippet="...")],
        next_actions=[NextAction(id="refund", title="Issue a refund", confidence=0.9, reason="4 of 5 similar tickets")],
        brand="acme")
    return Suggestion(**{**fields, **kw})


def violations(payload: Any, path: str = "") -> list[str]:
    """Every place a payload crosses a documented Block Kit limit."""
    out: list[str] = []
    if isinstance(payload, dict):
        kind = payload.get("type")
        if kind == "section" and len(payload.get("text", {}).get("text", "")) > ui.LIMITS["section"]:
            out.append(f"{path}: section text")
        if kind == "button":
            if len(payload["text"]["text"]) > ui.LIMITS["button_text"]:
                out.append(f"{path}: button text")
            if len(payload.get("value", "")) > ui.LIMITS["button_value"]:
                out.append(f"{path}: button value")
        if kind == "context" and len(payload["elements"]) > ui.LIMITS["context_elements"]:
            out.append(f"{path}: context elements")
        if kind == "header" and len(payload["text"]["text"]) > ui.LIMITS["header"]:
            out.append(f"{path}: header")
        if kind == "modal" and len(payload["title"]["text"]) > ui.LIMITS["modal_title"]:
            out.append(f"{path}: modal title")
        if kind == "plain_text_input" and len(payload.get("initial_value", "")) > ui.LIMITS["input"]:
            out.append(f"{path}: input initial value")
        if kind == "static_select" and len(payload["options"]) > ui.LIMITS["options"]:
            out.append(f"{path}: options")
        if "blocks" in payload and kind in {None, "modal", "home"} and len(payload["blocks"]) > \
                (ui.LIMITS["blocks"] if kind is None else 100):
            out.append(f"{path}: block count")
        for k, v in payload.items():
            out += violations(v, f"{path}.{k}")
    elif isinstance(payload, list):
        if path.endswith("blocks") and len(payload) > ui.LIMITS["blocks"]:
            out.append(f"{path}: block count")
        for i, v in enumerate(payload):
            out += violations(v, f"{path}[{i}]")
    return out


def check_golden(name: str, payload: Any) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; if intended, UPDATE_GOLDEN=1 and review"


def test_suggestion_message_matches_its_golden_file() -> None:
    s = suggestion(flags=["escalate", "unsupported_claim", "dedup"])
    check_golden("slack_suggestion", ui.suggestion_blocks(s))


def test_modals_and_home_match_their_golden_files() -> None:
    s = suggestion()
    check_golden("slack_edit_modal", ui.edit_modal(s, private_metadata='{"sid": "s1"}'))
    check_golden("slack_not_helpful_modal", ui.not_helpful_modal(private_metadata='{"sid": "s1"}'))
    mine = FeedbackStats(seen=4, accepted=2, edited=1, rejected=1, reasons={"wrong_tone": 1})
    check_golden("slack_home", ui.home_view(mine, FeedbackStats(seen=10, accepted=5, edited=2, rejected=3)))


def test_markup_in_titles_is_escaped_and_only_web_urls_become_links() -> None:
    s = suggestion()
    s.citations[1].url = "javascript:alert(1)"
    text = json.dumps(ui.suggestion_blocks(s))
    assert "<https://help.acme.example/refunds|Refund timing>" in text
    assert "&lt;b&gt;" in text and "javascript:" not in text


@pytest.mark.parametrize("size", [10, 2_999, 3_001, 12_000, 60_000])
def test_any_reply_length_stays_within_slacks_limits(size: int) -> None:
    words = ("refund " * (size // 7 + 1))[:size]
    reply = "\n\n".join(words[i:i + 1000] for i in range(0, len(words), 1000))
    s = suggestion(reply, citations=[], flags=["escalate"] * 3)
    msg = ui.suggestion_blocks(s)
    assert violations(msg, "blocks") == []
    assert violations(ui.edit_modal(s, private_metadata="{}")) == []
    assert violations(ui.full_reply_modal(s)) == []
    assert violations(ui.outcome_blocks(s, "edited", "U1", final_text=reply), "blocks") == []
    shown = "".join(b["text"]["text"] for b in msg if b["type"] == "section" and "Next actions" not in b["text"]["text"]
                    and "Escalation" not in b["text"]["text"])
    actions = [e["action_id"] for e in msg[-1]["elements"]]
    if len(reply) > ui.MAX_REPLY_SECTIONS * (ui.LIMITS["section"] - 100):
        assert "copilot_show_more" in actions and len(shown) < len(reply)
    else:
        assert "copilot_show_more" not in actions and shown.replace("\n", "") == reply.replace("\n", "")


def test_a_paragraph_without_breaks_is_split_not_dropped() -> None:
    reply = "x" * 7000
    pieces = ui.reply_sections(reply)
    assert all(len(p) <= ui.LIMITS["section"] for p in pieces) and "".join(pieces) == reply


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for e in next(b for b in blocks if b["type"] == "actions")["elements"]}


@pytest.mark.parametrize("flag", ["low_confidence", "no_evidence"])
def test_a_draft_that_is_not_confident_is_secondary_and_send_is_not_primary(flag: str) -> None:
    s = suggestion(confidence=0.1, flags=[flag])
    blocks = ui.suggestion_blocks(s)
    text = json.dumps(blocks)
    assert "No confident draft" in text and ui.fallback_text(s).startswith("No confident draft")
    send = _buttons(blocks)["copilot_send"]
    assert "style" not in send and send["text"]["text"] == "Send anyway"
    # The sources and next actions stay; the draft is a grey context line, not a reply section.
    assert "Refund timing" in text and "Issue a refund" in text
    draft = [b for b in blocks if b["type"] == "context" and "Draft (not confident)" in json.dumps(b)]
    assert len(draft) == 1 and "5 to 7 business days" in json.dumps(draft)
    assert not any(b["type"] == "section" and "5 to 7 business days" in b["text"]["text"] for b in blocks)
    confident = _buttons(ui.suggestion_blocks(suggestion()))["copilot_send"]
    assert confident["style"] == "primary" and confident["text"]["text"] == "Send"


def test_a_long_draft_that_is_not_confident_is_cut_with_show_more() -> None:
    s = suggestion("word " * 400, flags=["low_confidence"])
    blocks = ui.suggestion_blocks(s)
    assert "copilot_show_more" in _buttons(blocks) and violations(blocks, "blocks") == []


def test_signals_guidance_and_other_language_evidence_are_shown() -> None:
    from copilot.models import EscalationSignal, Guidance, Sentiment

    s = suggestion(
        flags=["escalate", "no_evidence", "evidence_in_other_language"], language="vi",
        sentiment=Sentiment(score=-0.7, label="negative", urgency=0.9),
        escalation=[EscalationSignal(reason="legal_threat", evidence="Tôi sẽ kiện công ty <ngay>", confidence=0.93),
                    EscalationSignal(reason="chargeback", evidence="dispute this charge", confidence=0.7)],
        guidance=[Guidance(source_id="article:macros", title="Refund macro",
                           text="Tell them the reset code arrives by SMS; offer code SAVE10 only if they cancel.")])
    blocks = ui.suggestion_blocks(s)
    text = json.dumps(blocks, ensure_ascii=False)
    assert "Customer: *negative*" in text and "*urgent* (90%)" in text
    assert "*Escalation: Legal threat* (93%) — “Tôi sẽ kiện công ty &lt;ngay&gt;”" in text
    assert "*Escalation: Chargeback or dispute* (70%)" in text
    assert "anger, a legal threat" not in text  # the generic line gives way to the reasons
    assert "For you, not for the customer" in text and "SAVE10" in text and "Refund macro" in text
    assert ("The only relevant article is in another language*: [1] <https://help.acme.example/refunds|Refund timing>"
            in text)
    calm = json.dumps(ui.suggestion_blocks(suggestion(sentiment=Sentiment(score=0.1, label="neutral", urgency=0.1))))
    assert "Customer: *neutral*" in calm and "urgent" not in calm
    check_golden("slack_suggestion_low", blocks)


@pytest.mark.parametrize(("title", "label"), [
    (None, "Past ticket T1"), ("None", "Past ticket T1"), ("", "Past ticket T1"),
    ("[HANDLE] I then had to wait 3 weeks", "I then had to wait 3 weeks"), ("[NAME_2] [EMAIL]", "Past ticket T1"),
    ("Refund timing", "Refund timing"),
])
def test_source_titles_never_read_none_or_show_placeholders(title: str | None, label: str) -> None:
    c = Citation(source_id="ticket:T1", kind="ticket", title=title, snippet="...")
    assert ui.source_label(c) == label
    text = json.dumps(ui.suggestion_blocks(suggestion(citations=[c])))
    assert f"[1] {label} (ticket)" in text and "None" not in text
