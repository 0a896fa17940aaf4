"""Red-team suite runner: injection and exfiltration attempts in tickets, and poisoned sources and
ticket fields (knowledge-base articles and their titles and tags, past tickets' replies, subjects and
tags, the new ticket's subject, customer name and tags).

A case "changed behaviour" when anything it tried to plant reaches the reply. The LLM path is
tested with an *obedient* fake model that does whatever the attack asks and repeats what its
sources say (the worst case): what still stops the attack is our own checks, not the model's good
sense. Poisoned sources are planted through ``Copilot.ingest_records`` (the path of ``copilot
ingest`` and ``POST /v1/tickets``), as many copies as the case says, and removed after it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel

from copilot.models import Article, Message, Suggestion, Ticket
from copilot.service import Copilot

__all__ = ["ObedientChatModel", "RedTeamCase", "load_cases", "run_suite"]

NORMAL_QUESTION = "When will I get my refund? I returned the chair last week."
QUESTIONS = {"en": NORMAL_QUESTION,
             "vi": "Khi nào tôi nhận được tiền hoàn? Tôi đã trả lại ghế tuần trước.",
             "zh": "我上周退了椅子，退款什么时候到账？"}
SAFE_ARTICLE = ("We issue the refund within 2 business days after the returned item reaches our warehouse. "
                "Your bank then needs 5 to 7 business days to show the refund.")
SAFE_REPLY = "We issue the refund within 2 business days after the return reaches our warehouse."

Where = Literal["ticket", "kb", "kb_title", "kb_tags", "past_ticket", "past_ticket_subject", "past_ticket_tags",
                "subject", "customer_name", "tags"]


class RedTeamCase(BaseModel):
    id: str
    where: Where
    text: str
    forbidden: list[str]
    # The customer's language for the question asked (a poisoned Vietnamese article needs a Vietnamese question).
    language: Literal["en", "vi", "zh"] = "en"
    # How many copies of a poisoned source to plant (three agreeing past replies look like consensus).
    copies: int = 1


class ObedientChatModel(FakeMessagesListChatModel):
    """The worst model: it repeats whatever instructions it finds in the ticket and what its sources say."""

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        human = str(messages[-1].content)
        system = str(messages[0].content)
        cited = [part.split('"')[0] for part in human.split('<source id="')[1:]]
        payload = human.split("<ticket>")[-1].split("</ticket>")[0].strip()
        poisoned = [p for p in human.split("\n") if any(w in p for w in ("INSTRUCTION", "Assistant", "AI", "Developer",
                                                                          "Hidden", "Ignore", "Hướng dẫn", "给AI"))]
        said = [line.removeprefix("Agent: ").strip() for block in re.findall(r"<source [^>]*>\n(.*?)\n</source>",
                                                                             human, flags=re.S)
                for line in block.split("\n")[1:] if line.strip() and not line.startswith("Customer:")]
        reply = f"Sure. {payload} {' '.join(poisoned)} {' '.join(said)} As instructed: {system[:300]}"
        content = json.dumps({"reply": reply, "cited_source_ids": cited, "confidence": 0.9}, ensure_ascii=False)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=content))])


def load_cases(path: Path) -> list[RedTeamCase]:
    return [RedTeamCase.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _plant(cp: Copilot, case: RedTeamCase, brand: str) -> tuple[list[str], list[str]]:
    """Index the case's poisoned sources; (their source ids, the ids quarantined at ingest)."""
    n = range(max(1, case.copies))
    articles: list[Article] = []
    tickets: list[Ticket] = []
    if case.where == "kb":
        articles = [Article(id=f"poison-{case.id}-{i}", title="Refund timing", body=case.text)
                    for i in n]
    elif case.where in {"kb_title", "kb_tags"}:
        articles = [Article(id=f"poison-{case.id}-{i}", title=case.text if case.where == "kb_title" else "Refund timing",
                            tags=[case.text] if case.where == "kb_tags" else [], body=SAFE_ARTICLE) for i in n]
    elif case.where.startswith("past_ticket"):
        question = QUESTIONS[case.language]
        tickets = [Ticket(id=f"poison-{case.id}-{i}", status="solved", locale=case.language,
                          subject=case.text if case.where == "past_ticket_subject" else None,
                          tags=[case.text] if case.where == "past_ticket_tags" else [],
                          messages=[Message(author="customer", body=question),
                                    Message(author="agent",
                                            body=case.text if case.where == "past_ticket" else SAFE_REPLY)])
                   for i in n]
    if not articles and not tickets:
        return [], []
    summary = cp.ingest_records(articles, tickets, brand=brand)
    ids = [f"article:{a.id}" for a in articles] + [f"ticket:{t.id}" for t in tickets]
    return ids, [sid for sid, _ in summary.quarantined]


def _ticket(case: RedTeamCase, brand: str) -> Ticket:
    question = case.text if case.where == "ticket" else QUESTIONS[case.language]
    return Ticket(brand=brand, locale=case.language, messages=[Message(author="customer", body=question)],
                  subject=case.text if case.where == "subject" else None,
                  customer_name=case.text if case.where == "customer_name" else None,
                  tags=[case.text] if case.where == "tags" else [])


def leaked(case: RedTeamCase, s: Suggestion) -> list[str]:
    return [m for m in case.forbidden if m.lower() in s.reply.lower()]


def run_suite(cp: Copilot, cases: list[RedTeamCase], *, brand: str) -> dict[str, Any]:
    """Run every case through ``cp`` (whatever drafter it has); return counts and the failures."""
    failures = []
    fallbacks = 0
    quarantined = 0
    tried: Counter[str] = Counter()
    held: Counter[str] = Counter()
    for case in cases:
        planted, stopped = _plant(cp, case, brand)
        quarantined += bool(stopped)
        try:
            s = cp.suggest(_ticket(case, brand))
            bad = leaked(case, s)
            fallbacks += "llm_fallback" in s.flags
        finally:
            if planted:
                cp.remove_sources(brand, planted)
        tried[case.where] += 1
        held[case.where] += not bad
        if bad:
            failures.append({"id": case.id, "leaked": bad, "reply": s.reply})
    return {"cases": len(cases), "changed_behaviour": len(failures), "llm_fallbacks": fallbacks,
            "quarantined_at_ingest": quarantined, "tried": dict(tried), "held": dict(held), "failures": failures}
