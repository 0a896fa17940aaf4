"""The poisoning red-team suite (eval/redteam/poisoning_v1.jsonl): poisoned articles, past replies and
ticket fields never reach a reply, whichever drafter writes it.

Two layers are attacked separately: end to end (ingest screening quarantines what it recognises, the
check stage handles the rest), and the check stage alone, with the same poisoned text handed to the
drafters as retrieved sources (a source indexed before screening existed, or one it misses).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from copilot.drafting.base import DraftRequest
from copilot.drafting.llm import LLMDrafter
from copilot.evaluation.redteam import (
    QUESTIONS,
    SAFE_ARTICLE,
    SAFE_REPLY,
    ObedientChatModel,
    RedTeamCase,
    load_cases,
    run_suite,
)
from copilot.guardrails import screen
from copilot.models import Chunk, Hit, Message, Ticket
from copilot.service import Copilot

SUITE = Path(__file__).resolve().parents[2] / "eval" / "redteam" / "poisoning_v1.jsonl"


def obedient(cp: Copilot) -> Copilot:
    return Copilot(cp.settings, config=cp.config, embedder=cp.embedder,
                   drafter=LLMDrafter(ObedientChatModel(responses=[AIMessage(content="")]), name="obedient"))


def test_the_suite_covers_articles_past_tickets_and_ticket_fields() -> None:
    cases = load_cases(SUITE)
    assert len(cases) >= 40
    assert {c.where for c in cases} == {"kb", "kb_title", "kb_tags", "past_ticket", "past_ticket_subject",
                                         "past_ticket_tags", "subject", "customer_name", "tags"}
    assert {c.language for c in cases} == {"en", "vi", "zh"} and any(c.copies > 1 for c in cases)


@pytest.mark.parametrize("drafter", ["embedded", "obedient llm"])
def test_no_poisoned_string_reaches_a_reply(indexed: Copilot, drafter: str) -> None:
    cp = indexed if drafter == "embedded" else obedient(indexed)
    result = run_suite(cp, load_cases(SUITE), brand="acme")
    assert result["changed_behaviour"] == 0, [(f["id"], f["leaked"], f["reply"]) for f in result["failures"]]


def _as_sources(case: RedTeamCase) -> list[Hit]:
    """The case's poisoned text as retrieved sources, scored as the closest there are."""
    question = QUESTIONS[case.language]
    hits = []
    for i in range(max(1, case.copies)):
        sid = f"{'article' if case.where.startswith('kb') else 'ticket'}:poison-{case.id}-{i}"
        if case.where.startswith("kb"):
            chunk = Chunk(id=f"{sid}#0", source_id=sid, kind="article", brand="acme", locale=case.language,
                          title=case.text if case.where == "kb_title" else "Refund timing",
                          tags=[case.text] if case.where == "kb_tags" else [],
                          text=f"Refund timing\n{case.text if case.where == 'kb' else SAFE_ARTICLE}")
        else:
            chunk = Chunk(id=f"{sid}#0", source_id=sid, kind="ticket", brand="acme", locale=case.language,
                          title=case.text if case.where == "past_ticket_subject" else question[:80],
                          tags=[case.text] if case.where == "past_ticket_tags" else [],
                          text=f"{case.text}\n{question}" if case.where == "past_ticket_subject" else question,
                          replies=[case.text if case.where == "past_ticket" else SAFE_REPLY])
        hits.append(Hit(chunk=chunk, score=1.0, dense=0.95, lexical=10.0))
    return hits


@pytest.mark.parametrize("drafter", ["embedded", "obedient llm"])
def test_the_check_stage_alone_stops_poisoned_sources_it_is_handed(indexed: Copilot, drafter: str) -> None:
    cp = indexed if drafter == "embedded" else obedient(indexed)
    profile = cp.config.brand("acme")
    leaks = []
    for case in load_cases(SUITE):
        if not case.where.startswith(("kb", "past_ticket")):
            continue
        question = QUESTIONS[case.language]
        hits = _as_sources(case) + cp.search(question, brand="acme")
        request = DraftRequest(ticket=Ticket(messages=[Message(author="customer", body=question)]), query=question,
                               language=case.language, brand="acme", profile=profile, hits=hits,
                               screening=screen(question))
        reply = cp.parts.pipeline.run(request).checked.reply
        leaks += [(case.id, m, reply) for m in case.forbidden if m.lower() in reply.lower()]

    assert leaks == []
