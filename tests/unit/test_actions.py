from __future__ import annotations

import pytest

from copilot.actions import ActionRanker, learned_title
from copilot.config import ActionSpec
from copilot.models import Chunk, Hit
from copilot.retrieval.embeddings import HashEmbedder

CATALOG = [
    ActionSpec(id="refund", title="Issue a refund", description="refund money", when=["refund"]),
    ActionSpec(id="replacement", title="Send a replacement", description="ship a new item", when=["broken"]),
    ActionSpec(id="escalate", title="Escalate", description="senior agent"),
    ActionSpec(id="ask_order_number", title="Ask for the order number"),
    ActionSpec(id="ask_details", title="Ask for details"),
]


def hit(i: int, actions: list[str], text: str, dense: float) -> Hit:
    return Hit(chunk=Chunk(id=f"ticket:{i}#0", source_id=f"ticket:{i}", kind="ticket", text=text, brand="b",
                           actions=actions), score=1 / (60 + i), dense=dense)


def test_history_outranks_description_and_reason_names_tickets() -> None:
    ranker = ActionRanker(CATALOG, HashEmbedder())
    hits = [hit(1, ["replacement"], "mug broken", 0.7), hit(2, ["replacement"], "cup broken", 0.65),
            hit(3, ["refund"], "refund please", 0.3)]
    out = ranker.rank("my mug arrived, want a refund", hits)
    assert out[0].id == "replacement"
    assert out[0].reason == "2 of 3 similar resolved tickets did this (ticket:1, ticket:2)"
    assert all(0 <= a.confidence <= 1 for a in out)
    assert [a.confidence for a in out] == sorted((a.confidence for a in out), reverse=True)


def test_cues_rank_actions_without_history() -> None:
    ranker = ActionRanker(CATALOG, HashEmbedder())
    out = ranker.rank("the lamp is broken", [])
    assert out[0].id == "replacement" and "broken" in (out[0].reason or "")


def test_signals_force_escalation() -> None:
    ranker = ActionRanker(CATALOG, HashEmbedder())
    out = ranker.rank("I will sue you", [hit(1, ["refund"], "x", 0.3)], signals=["legal_threat", "anger"])
    assert out[0].id == "escalate" and out[0].confidence == 0.9
    assert out[0].reason == "escalation signals: legal_threat, anger"


def test_actions_missing_from_the_catalog_are_learned_from_history() -> None:
    ranker = ActionRanker(CATALOG, HashEmbedder())
    hits = [hit(1, ["card_arrival"], "card not here", 0.9), hit(2, ["card_arrival"], "card still missing", 0.85),
            hit(3, ["refund"], "refund please", 0.5)]
    out = ranker.rank("my new card has not arrived", hits)
    assert out[0].id == "card_arrival" and out[0].title == "Card arrival"
    assert out[0].reason == ("2 of 3 similar resolved tickets did this (ticket:1, ticket:2); "
                             "learned from ticket history")
    refund = next(a for a in out if a.id == "refund")
    assert refund.title == "Issue a refund" and "learned" not in (refund.reason or "")


def test_catalog_entries_win_and_tags_only_count_when_catalogued() -> None:
    catalog = [*CATALOG, ActionSpec(id="card_arrival", title="Check the card delivery")]
    ranker = ActionRanker(catalog, HashEmbedder())
    out = ranker.rank("card?", [hit(1, ["card_arrival"], "card", 0.9)])
    assert out[0].title == "Check the card delivery" and "learned" not in (out[0].reason or "")
    tagged = Hit(chunk=Chunk(id="ticket:9#0", source_id="ticket:9", kind="ticket", text="x", brand="b",
                             tags=["vip", "refund"]), score=1.0, dense=0.9)
    ids = [a.id for a in ranker.rank("x", [tagged])]
    assert "vip" not in ids and ids[0] == "refund"
    blank = ranker.rank("x", [hit(1, ["  ", ""], "x", 0.9)])
    assert all(a.id.strip() for a in blank)


@pytest.mark.parametrize(("action_id", "title"), [
    ("card_arrival", "Card arrival"), ("reset-PIN", "Reset PIN"), ("macro: Refund  full", "Macro Refund full"),
    ("x" * 300, "X" + "x" * 79),
])
def test_learned_titles(action_id: str, title: str) -> None:
    assert learned_title(action_id) == title


def test_order_number_rules() -> None:
    ranker = ActionRanker(CATALOG, HashEmbedder())
    assert "ask_order_number" in [a.id for a in ranker.rank("where is my order", [])]
    assert "ask_order_number" not in [a.id for a in ranker.rank("where is my order", [], has_order_number=True)]
    assert ranker.rank("xyz", [], no_evidence=True)[0].id == "ask_details"


def test_no_reply_to_reuse_still_ranks_what_close_tickets_did_but_asks_when_history_is_far() -> None:
    ranker = ActionRanker(CATALOG, HashEmbedder())
    close = [hit(1, ["card_arrival"], "card not here", 0.9), hit(2, ["card_arrival"], "card still missing", 0.85)]
    assert ranker.rank("my new card has not arrived", close, no_evidence=True)[0].id == "card_arrival"
    far = [hit(1, ["card_arrival"], "card not here", 0.3)]
    out = ranker.rank("do you sell hydrogen bicycles", far, no_evidence=True)
    assert out[0].id == "ask_details" and out[0].reason == "no similar resolved ticket or article answers this yet"
