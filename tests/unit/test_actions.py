from __future__ import annotations

from copilot.actions import ActionRanker
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


def test_signals_force_escalation_and_unknown_actions_are_ignored() -> None:
    ranker = ActionRanker(CATALOG, HashEmbedder())
    out = ranker.rank("I will sue you", [hit(1, ["not_in_catalog"], "x", 0.9)], signals=["legal_threat"])
    assert out[0].id == "escalate" and out[0].confidence == 0.9
    assert "not_in_catalog" not in [a.id for a in out]


def test_order_number_rules() -> None:
    ranker = ActionRanker(CATALOG, HashEmbedder())
    assert "ask_order_number" in [a.id for a in ranker.rank("where is my order", [])]
    assert "ask_order_number" not in [a.id for a in ranker.rank("where is my order", [], has_order_number=True)]
    assert ranker.rank("xyz", [], no_evidence=True)[0].id == "ask_details"
