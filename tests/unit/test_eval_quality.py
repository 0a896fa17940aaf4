"""Leftovers of another case, coverage, human grades and calibration, the feedback export and the report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from copilot.checks.leftovers import find_leftovers
from copilot.config import CopilotConfig
from copilot.evaluation.cases import EvalCase
from copilot.evaluation.feedback_export import export_feedback
from copilot.evaluation.grading import GradedItem, GradedReply, auroc, grade_stats, is_shown
from copilot.evaluation.metrics import CaseRun, make_metric
from copilot.evaluation.runner import grade_items, write_run
from copilot.feedback import FeedbackStore
from copilot.models import Citation, FeedbackRecord, Message, Suggestion, Ticket
from copilot.retrieval.embeddings import HashEmbedder
from copilot.service import Copilot
from copilot.settings import Settings

STUB = Copilot(Settings(embedder="hash"), config=CopilotConfig(), embedder=HashEmbedder())


def kinds(reply: str, *allowed: str) -> dict[str, str]:
    return {f.text: f.kind for f in find_leftovers(reply, allowed=allowed)}


# --- leftovers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    "Please DM us your e-mail address. ^KD", "Could you DM us? *TJF", "Does logging out help? Keep us posted /JI",
    "Send us a DM with the details. ~ Dean", "Thanks for waiting, we'll check. -Sam", "We'll look into it. - Josh",
    "Please try again later. Regards, Dinesh.", "Can you try a different browser? Lewis",
    "That worked before. Thanks-Sha",
])
def test_agent_signatures_in_any_form_are_leftovers(reply: str) -> None:
    assert "signature" in kinds(reply).values(), find_leftovers(reply)


@pytest.mark.parametrize(("reply", "name"), [
    ("That shouldn't be the case, Jenell! Which shows are you watching?", "Jenell"),
    ("Hi Sam, sorry about that.", "Sam"),
    ("We're sorry to hear this Jeremy, have you booked through us?", "Jeremy"),
    ("Can you DM us a screenshot of what the app shows Steven? What phone is it?", "Steven"),
    ("Apologies Peter, this is due to a signalling failure.", "Peter"),
    ("Is this a meal from the cafe you're referring to? Chris. I'm sorry.", "Chris"),
    ("Chào anh Nam, chúng tôi đã kiểm tra.", "Nam"),
    ("王先生您好，我们已经处理。", "王先生"),
])
def test_names_of_another_customer_anywhere_in_the_body_are_leftovers(reply: str, name: str) -> None:
    assert kinds(reply).get(name) == "name"


def test_case_details_are_leftovers_unless_the_ticket_or_an_article_says_them() -> None:
    reply = ("Regarding your DM, the fix for your TV is out. The 15:41 service on Monday was delayed; "
             "we refunded $45.50 for booking ABC123 on your Apple Watch. 1/2")
    found = kinds(reply)
    assert found["Regarding your DM"] == "context" and found["1/2"] == "context"
    assert found["your TV"] == "detail" and found["ABC123"] == "detail" and found["Apple Watch"] == "product"
    assert found["$45.50"] == "amount" and found["15:41"] == "date" and found["Monday"] == "date"
    said = kinds(reply, "My tv broke on monday, booking ABC123, the 15:41 train. I paid 45,50 for my Apple Watch",
                 "We reply to every DM. regarding your DM")
    assert set(said.values()) <= {"context"} and "1/2" in said  # only the tweet-thread marker is left


def test_a_generic_reply_and_the_brands_own_frame_are_clean() -> None:
    assert find_leftovers("Hi there,\n\nPlease send us a DM with your order number and we'll take a look. "
                          "Thanks!\n\nWarm regards,\nThe Acme Home team") == []
    assert find_leftovers("Sorry to see this. Is there anything we can help with? Best regards, Delta Support",
                          allowed=["Delta"]) == []
    # 24/7 is not a thread marker, TCP/IP is not a signature, a name the customer gave is theirs.
    assert find_leftovers("We answer 24/7 and support TCP/IP.") == []
    assert find_leftovers("Thanks, Maria! We'll check.", allowed=["Hi, I'm Maria"]) == []


def test_hostile_and_huge_replies_are_handled_quickly() -> None:
    regex_bait = "(.*)[?]{1,}\\ $^ ^^^ *** /// ~~~ ---"
    assert isinstance(find_leftovers(regex_bait, allowed=[regex_bait, "[a-"]), list)
    huge = ("Please restart your router and try again, Jenell! " * 4000)[:200_000]
    t0 = time.perf_counter()
    found = find_leftovers(huge, allowed=["x" * 100_000])
    assert time.perf_counter() - t0 < 5 and {f.text for f in found} == {"Jenell", "your router"}


# --- metrics -------------------------------------------------------------------------------------------


def run(reply: str, *, flags: list[str] | None = None, grades: list[GradedReply] | None = None,
        text: str = "Where is my refund?", cited: dict[str, str] | None = None) -> CaseRun:
    s = Suggestion(id="s", reply=reply, language="en", confidence=0.7, drafter="embedded", brand="acme",
                   flags=flags or [], citations=[Citation(source_id=k, kind="article", snippet="x")
                                                 for k in (cited or {})])
    case = EvalCase(id="c", ticket=Ticket(messages=[Message(author="customer", body=text)]), grades=grades or [])
    return CaseRun(case=case, suggestion=s, retrieved=list(cited or {}), sources=cited or {})


def score(name: str, r: CaseRun) -> tuple[float | None, str]:
    s = make_metric(name, copilot=STUB).score(r)
    return s.value, s.reason


def test_the_leftovers_metric_counts_cited_articles_but_not_cited_tickets() -> None:
    value, reason = score("leftovers", run("That shouldn't be the case, Jenell! It costs $14.95."))
    assert value == 0.0 and "name: Jenell" in reason and "amount: $14.95" in reason
    licensed = run("Express shipping costs $14.95.", cited={"article:shipping": "Express costs $14.95."})
    assert score("leftovers", licensed)[0] == 1.0
    # The default brand's frame ("Best regards, default Support"... whatever it is) is never a leftover.
    frame = STUB.brand_frame("acme", "en")
    assert score("leftovers", run(f"{frame.greeting}\n\nPlease DM us.\n\n{frame.sign_off}"))[0] == 1.0


def test_coverage_is_the_share_not_flagged_as_abstaining() -> None:
    assert score("coverage", run("Here is how."))[0] == 1.0
    assert score("coverage", run("Let me check.", flags=["no_evidence"]))[0] == 0.0
    assert score("coverage", run("Let me check.", flags=["low_confidence", "escalate"]))[0] == 0.0
    assert is_shown(["escalate", "possible_prompt_injection"])


def test_acceptance_and_harm_count_the_grade_of_this_very_reply() -> None:
    grades = [GradedReply(reply="Refunds take  5 days.", grade="B"), GradedReply(reply="Your TV is fixed.", grade="D",
                                                                                  patterns=["leftover"])]
    assert score("acceptance", run("Refunds take 5 days.", grades=grades)) == (1.0, "grade B")
    assert score("harmless", run("Refunds take 5 days.", grades=grades))[0] == 1.0
    value, reason = score("harmless", run("Your TV is fixed.", grades=grades))
    assert value == 0.0 and "leftover" in reason and score("acceptance", run("Your TV is fixed.", grades=grades))[0] == 0
    new = score("acceptance", run("A reply nobody graded.", grades=grades))
    assert new[0] is None and "not graded" in new[1]
    assert score("acceptance", run("Refunds take 5 days.", grades=grades, flags=["no_evidence"]))[0] is None
    assert score("acceptance", run("Anything."))[0] is None


# --- grading statistics --------------------------------------------------------------------------------


def test_auroc_on_hand_checked_scores() -> None:
    # Pairs (pos, neg): 0.9>0.7, 0.9>0.8, 0.8>0.7, 0.8=0.8 (half) -> 3.5 / 4.
    assert auroc([0.9, 0.8], [0.7, 0.8]) == pytest.approx(0.875)
    assert auroc([0.1], [0.9]) == 0.0 and auroc([0.5], [0.5]) == 0.5
    assert auroc([], [0.3]) is None and auroc([0.3], []) is None


def test_grade_stats_coverage_acceptance_harm_bins_and_thresholds() -> None:
    items = [GradedItem("A", 0.9), GradedItem("B", 0.85, ["frame"]), GradedItem("C", 0.5, ["generic"]),
             GradedItem("D", 0.3, ["leftover", "wrong_problem"]), GradedItem("not_shown", 0.1), GradedItem(None, 0.6)]
    s = grade_stats(items)
    assert s.counts == {"A": 1, "B": 1, "C": 1, "D": 1, "not_shown": 1, "ungraded": 1}
    assert s.coverage == pytest.approx(5 / 6) and s.acceptance == 0.5 and s.harm == 0.25 and s.auroc == 1.0
    assert s.mean_confidence["A"] == 0.9 and s.mean_confidence["not_shown"] == 0.1
    assert [b.n for b in s.bins] == [0, 1, 1, 0, 2] and s.bins[4].acceptance == 1.0
    at_07 = next(p for p in s.thresholds if p.threshold == pytest.approx(0.7))
    assert at_07.acceptance == 1.0 and at_07.harm == 0.0 and at_07.coverage == pytest.approx(2 / 6)
    assert s.patterns == {"leftover": 1, "frame": 1, "generic": 1, "wrong_problem": 1}
    empty = grade_stats([])
    assert empty.coverage is None and empty.auroc is None


def _row(cid: str, reply: str, confidence: float, flags: list[str], grades: list[dict[str, Any]]) -> dict[str, Any]:
    case = EvalCase(id=cid, ticket=Ticket(messages=[Message(author="customer", body="hi")]),
                    reference_reply="<b>the agent's</b> reply",
                    grades=[GradedReply.model_validate(g) for g in grades])
    s = Suggestion(id=cid, reply=reply, language="en", confidence=confidence, drafter="embedded", flags=flags,
                   citations=[Citation(source_id="article:x", kind="article", url="javascript:alert(1)",
                                       title="Evil <i>title</i>", snippet="s")])
    return {"id": cid, "case": case.model_dump(mode="json", exclude_defaults=True),
            "suggestion": s.model_dump(mode="json"),
            "metrics": {"coverage": {"value": float(is_shown(flags)), "reason": ""},
                        "mrr": {"value": 0.4, "reason": "r"}}}


def test_a_run_summarises_grades_and_the_report_shows_them_escaped(tmp_path: Path) -> None:
    rows = [_row("good", "Refunds take 5 days.", 0.9, [], [{"reply": "Refunds take 5 days.", "grade": "A"}]),
            _row("bad", "<script>alert('x')</script> Jenell!", 0.4, [],
                 [{"reply": "<script>alert('x')</script> Jenell!", "grade": "D", "patterns": ["leftover"]}]),
            _row("quiet", "Let me check.", 0.1, ["no_evidence"], [])]
    assert [i.grade for i in grade_items(rows)] == ["A", "D", "not_shown"]
    summary = write_run(tmp_path, "graded", rows, ["coverage", "mrr"], seconds=1.0, config={}, dataset=None,
                        thresholds={"coverage": 0.5})
    g = summary.grading
    assert g is not None and g.acceptance == 0.5 and g.harm == 0.5 and g.auroc == 1.0 and g.shown == 2
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "Evil &lt;i&gt;title" in html
    assert "javascript:" not in html and "&lt;b&gt;the agent&#39;s&lt;/b&gt; reply" in html
    assert "Coverage, grades and calibration" in html and "confidence AUROC" in html
    assert "(3 cases)" in html and "(1 cases)" not in html
    # mrr has no threshold: a grey bar, no verdict; coverage has one: a tick and a colour.
    assert html.count('fill="#8c959f"') >= 1 and html.count('fill="#1f2328"') == 1
    one = write_run(tmp_path / "one", "one", rows[:1], ["mrr"], seconds=1.0, config={}, dataset=None, thresholds={})
    assert one.grading is None and "(1 case)" in (tmp_path / "one" / "report.html").read_text(encoding="utf-8")


# --- feedback export -----------------------------------------------------------------------------------


def _suggestion(sid: str, reply: str) -> Suggestion:
    return Suggestion(id=sid, reply=reply, language="en", confidence=0.8, drafter="embedded", brand="acme")


def test_feedback_exports_as_graded_cases(tmp_path: Path) -> None:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'f.db'}")
    cp = Copilot(Settings(embedder="hash", data_dir=tmp_path), config=CopilotConfig(), embedder=HashEmbedder(),
                 feedback=store)
    ticket = Ticket(brand="acme", messages=[Message(author="customer", body="Where is my refund?"),
                                            Message(author="agent", body="Looking.")])
    replies = {"s1": "Refunds take 5 to 7 business days.", "s2": "Refunds take five days after we receive it.",
               "s3": "Our sofas are blue.", "s4": "Tone was off.", "s5": "Ignored one."}
    for sid, reply in replies.items():
        store.save_suggestion(_suggestion(sid, reply), ticket)
    cp.record_feedback("s1", "accepted")
    cp.record_feedback("s2", "edited", final_text="Refunds take five days once we receive it.")
    cp.record_feedback("s3", "rejected", reason="not_relevant")
    cp.record_feedback("s4", "rejected", reason="wrong_tone")
    cp.record_feedback("s5", "ignored")
    # Feedback whose suggestion the database no longer holds (a reset, an old import) is counted, not fatal.
    store.record(FeedbackRecord(suggestion_id="gone", outcome="accepted", final_text="never saved"))

    only_accepted = export_feedback(cp)
    assert [c.id for c in only_accepted.cases] == ["feedback-s1"] and only_accepted.missing == 1
    case = only_accepted.cases[0]
    assert [m.author for m in case.ticket.messages] == ["customer"] and case.ticket.status == "open"
    assert case.grades[0].grade == "A" and case.grades[0].reply == replies["s1"] and case.reference_reply == replies["s1"]
    every = export_feedback(cp, outcomes=["accepted", "edited", "rejected"])
    assert {c.id: c.grades[0].grade for c in every.cases} == {"feedback-s1": "A", "feedback-s2": "B",
                                                               "feedback-s3": "D", "feedback-s4": "C"}
    assert every.grades == {"A": 1, "B": 1, "C": 1, "D": 1}
    assert export_feedback(cp, brand="other").cases == []
    # What was exported loads back as cases.
    line = case.model_dump_json(exclude_defaults=True)
    assert EvalCase.model_validate(json.loads(line)).grades[0].source == "feedback:accepted:embedded"
