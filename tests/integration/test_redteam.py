"""The red-team suite (eval/redteam/v1.jsonl) against both drafters."""

from __future__ import annotations

from pathlib import Path

from langchain_core.messages import AIMessage

from copilot.drafting.llm import LLMDrafter
from copilot.evaluation.redteam import ObedientChatModel, load_cases, run_suite
from copilot.service import Copilot

SUITE = Path(__file__).resolve().parents[2] / "eval" / "redteam" / "v1.jsonl"


def test_suite_has_thirty_cases_in_tickets_and_kb() -> None:
    cases = load_cases(SUITE)
    assert len(cases) >= 30 and {c.where for c in cases} == {"ticket", "kb"}


def test_embedded_drafter_resists_every_attempt(indexed: Copilot) -> None:
    result = run_suite(indexed, load_cases(SUITE), brand="acme")
    assert result["changed_behaviour"] == 0, result["failures"]


def test_llm_checks_stop_an_obedient_model(indexed: Copilot) -> None:
    cp = Copilot(indexed.settings, config=indexed.config, embedder=indexed.embedder,
                 drafter=LLMDrafter(ObedientChatModel(responses=[AIMessage(content="")]), name="obedient"))
    result = run_suite(cp, load_cases(SUITE), brand="acme")
    assert result["changed_behaviour"] == 0, [(f["id"], f["leaked"]) for f in result["failures"]]
    # The obedient model's drafts must really have gone through the checks, not around them.
    assert result["llm_fallbacks"] <= 8, result
