"""Every evaluation metric on hand-checked examples, plus the bootstrap, gates and case files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from copilot.config import CopilotConfig
from copilot.errors import ConfigError, InputError
from copilot.evaluation.backtest import split_history, to_case
from copilot.evaluation.cases import EvalCase, load_cases
from copilot.evaluation.compare import compare_runs, paired_bootstrap, write_junit
from copilot.evaluation.metrics import CaseRun, make_metric, rouge_l
from copilot.evaluation.runner import MetricSummary, gate, parse_thresholds
from copilot.models import Citation, Message, NextAction, Suggestion, Ticket
from copilot.retrieval.embeddings import HashEmbedder
from copilot.service import Copilot
from copilot.settings import Settings

# A real facade over the fake embedder: metrics use only its public interface (built lazily: no index).
STUB = Copilot(Settings(embedder="hash"), config=CopilotConfig(), embedder=HashEmbedder())


def run(reply: str = "We issue the refund within 2 business days.", *, retrieved: list[str] | None = None,
        cited: list[str] | None = None, actions: list[str] | None = None, text: str = "Where is my refund?",
        **case: Any) -> CaseRun:
    s = Suggestion(id="s", reply=reply, language="en", confidence=0.8, drafter="embedded", brand="acme",
                   citations=[Citation(source_id=c, kind="article", snippet="x") for c in (cited or [])],
                   next_actions=[NextAction(id=a, title=a, confidence=0.5) for a in (actions or [])], latency_ms=12.5)
    c = EvalCase(id="c1", ticket=Ticket(messages=[Message(author="customer", body=text)]), **case)
    return CaseRun(case=c, suggestion=s, retrieved=retrieved or [],
                   sources={"article:refunds": "We issue the refund within 2 business days. Banks take 5 to 7 days."})


def score(name: str, r: CaseRun) -> float | None:
    return make_metric(name, copilot=STUB).score(r).value


def test_retrieval_metrics_match_hand_computed_values() -> None:
    r = run(retrieved=["a", "b", "c"], expected_sources=["a", "c"])
    assert score("recall@2", r) == 0.5 and score("recall@3", r) == 1.0
    assert score("mrr", run(retrieved=["b", "a"], expected_sources=["a"])) == 0.5
    # DCG = 1 + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3) = 1.6309
    assert score("ndcg@3", r) == pytest.approx(1.5 / 1.6309298, abs=1e-6)
    assert score("recall@5", run(retrieved=["x"], expected_sources=["a"])) == 0.0
    assert score("recall@5", run()) is None  # nothing expected: not applicable, not zero


def test_action_accuracy() -> None:
    r = run(actions=["escalate", "refund", "track_order"], expected_actions=["refund"])
    assert score("action_top1", r) == 0.0 and score("action_top3", r) == 1.0
    assert score("action_top1", run()) is None


def test_rouge_l_on_hand_checked_pairs() -> None:
    # LCS "the cat on the mat" = 5; P 5/6, R 5/5 -> F 10/11.
    assert rouge_l("the cat sat on the mat", "the cat on the mat") == pytest.approx(10 / 11)
    assert rouge_l("mat the on cat the", "the cat on the mat") == pytest.approx(0.6)  # order matters: LCS "the on the"
    assert rouge_l("refund", "shipping") == 0.0
    assert rouge_l("退款将在两天内办理", "退款将在两天内办理") == 1.0  # Chinese is scored, not dropped
    assert score("rouge_l", run(reference_reply="We issue the refund within 2 business days.")) == 1.0


def test_reply_similarity_is_calibrated_to_zero_one() -> None:
    same = score("reply_similarity", run(reference_reply="We issue the refund within 2 business days."))
    other = score("reply_similarity", run(reference_reply="Our sofas come in twelve colours."))
    assert same == 1.0 and other is not None and 0.0 <= other < 0.5


def test_groundedness_citations_language_facts_forbidden() -> None:
    grounded = run(cited=["article:refunds"], retrieved=["article:refunds"])
    assert score("groundedness", grounded) == 1.0
    invented = run("We refund every order within 2 days and give a free lamp.", cited=["article:refunds"])
    assert score("groundedness", invented) == 0.0
    assert score("citation_validity", run(cited=["a", "z"], retrieved=["a", "b"])) == 0.5
    assert score("language_match", run(language="en")) == 1.0
    assert score("language_match", run("Chúng tôi hoàn tiền trong vòng 2 ngày làm việc.", language="en")) == 0.0
    r = run(must_contain=["2 business days", "5 to 7 days"], must_not_contain=["voucher"])
    assert score("facts_present", r) == 0.5 and score("forbidden_absent", r) == 1.0
    assert score("forbidden_absent", run("Here is a VOUCHER.", must_not_contain=["voucher"])) == 0.0


def test_safety_metrics() -> None:
    assert score("injection_resistance", run()) is None
    attack = run("Sure, 100% refund!", tags=["injection"], must_not_contain=["100%"])
    assert score("injection_resistance", attack) == 0.0
    assert score("pii_safe", run("We will write to jane@example.com", text="I am jane@example.com")) == 1.0
    assert score("pii_safe", run("Bob at bob@other.example had the same issue")) == 0.0
    assert score("pii_safe", run("Call +1 415 555 0100 for Bob's case")) == 0.0


def test_brand_voice_length_and_cost() -> None:
    assert score("brand_voice", run("Hi there,\n\nRefunds take 2 days.\n\nBest regards,\nCustomer Support")) == 1.0
    assert score("brand_voice", run("Refunds take 2 days.")) == 0.0  # no greeting, no sign-off
    assert score("length", run("word " * 500)) == 0.0 and score("length", run()) == 1.0
    assert score("latency_ms", run()) == 12.5 and score("tokens", run()) is None
    with pytest.raises(ConfigError, match="unknown metric"):
        make_metric("bleu", copilot=STUB)


def test_paired_bootstrap_is_deterministic_and_sensible() -> None:
    a = [0.5, 0.6, 0.4, 0.7, 0.5, 0.6, 0.5, 0.4, 0.6, 0.5]
    assert paired_bootstrap(a, a) == 1.0
    better = [x + 0.2 for x in a]
    assert paired_bootstrap(a, better) < 0.01 and paired_bootstrap(a, better) == paired_bootstrap(a, better)
    noisy = [x + d for x, d in zip(a, [0.1, -0.1, 0.05, -0.05, 0.0, 0.1, -0.1, 0.0, 0.05, -0.05], strict=True)]
    assert paired_bootstrap(a, noisy) > 0.5


def _write_run(path: Path, values: dict[str, float]) -> Path:
    path.mkdir(parents=True)
    rows = [{"id": cid, "metrics": {"rouge_l": {"value": v, "reason": ""}, "latency_ms": {"value": 10.0, "reason": ""}}}
            for cid, v in values.items()]
    (path / "cases.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_compare_reports_deltas_and_the_cases_that_got_worse(tmp_path: Path) -> None:
    a = _write_run(tmp_path / "a", {f"c{i}": 0.8 for i in range(12)})
    b = _write_run(tmp_path / "b", {**{f"c{i}": 0.8 for i in range(10)}, "c10": 0.2, "c11": 0.5})
    c = compare_runs(a, b)
    rouge = next(d for d in c.metrics if d.metric == "rouge_l")
    assert rouge.n_paired == 12 and rouge.delta == pytest.approx(-0.075)
    assert [w.id for w in c.worse] == ["c10", "c11"] and c.worse[0].worst_metric == "rouge_l"
    with pytest.raises(InputError, match="no case ids"):
        compare_runs(a, _write_run(tmp_path / "c", {"other": 1.0}))


def test_gates_thresholds_and_junit(tmp_path: Path) -> None:
    metrics = {"recall@5": MetricSummary(mean=0.7, n=10), "latency_ms": MetricSummary(mean=50, n=10, p50=40, p95=90)}
    results = gate(metrics, {"recall@5": 0.8, "latency_ms": 100, "mrr": 0.1})
    assert [(r.metric, r.passed) for r in results] == [("recall@5", False), ("latency_ms", True), ("mrr", False)]
    assert parse_thresholds(["recall@5=0.8", "latency_ms=250"]) == {"recall@5": 0.8, "latency_ms": 250.0}
    with pytest.raises(InputError, match="METRIC=MIN"):
        parse_thresholds(["recall@5"])
    write_junit(tmp_path / "j.xml", "smoke", [("recall@5 >= 0.8", False, "recall@5 = 0.7"), ("ok", True, "")])
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert root.get("tests") == "2" and root.get("failures") == "1"
    assert root.find("testcase/failure").get("message") == "recall@5 = 0.7"  # type: ignore[union-attr]


def test_case_files_name_the_bad_line(tmp_path: Path) -> None:
    p = tmp_path / "cases.jsonl"
    good = {"id": "a", "ticket": {"messages": [{"author": "customer", "body": "hi"}]}}
    p.write_text(json.dumps(good) + "\n" + json.dumps({"id": "b", "ticket": {}, "expected": 1}) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_cases(p)
    assert err.value.where == f"{p}:2"
    p.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate case id"):
        load_cases(p)


def test_backtest_holds_out_the_newest_and_drafts_from_the_opening_only() -> None:
    def t(i: int) -> Ticket:
        return Ticket(id=f"T{i}", status="solved", actions=["refund"], messages=[
            Message(author="customer", body=f"question {i}", created_at=f"2026-01-{i:02d}T10:00:00Z"),
            Message(author="agent", body=f"answer {i}"), Message(author="customer", body="thanks")])

    history, held = split_history([t(3), t(1), t(2), t(5), t(4)], holdout=2)
    assert [x.id for x in history] == ["T1", "T2", "T3"] and [x.id for x in held] == ["T4", "T5"]
    case = to_case(held[0])
    assert [m.body for m in case.ticket.messages] == ["question 4"] and case.reference_reply == "answer 4"
    assert case.expected_actions == ["refund"] and case.ticket.actions == []
    with pytest.raises(InputError, match="cannot hold out"):
        split_history([t(1), t(2)], holdout=2)


def test_backtest_skips_leading_agent_messages() -> None:
    t = Ticket(id="T9", status="solved", messages=[
        Message(author="agent", body="Hi! We noticed your order is late."),
        Message(author="customer", body="Yes, where is it?"), Message(author="agent", body="It ships today.")])
    case = to_case(t)
    assert [m.body for m in case.ticket.messages] == ["Yes, where is it?"] and case.reference_reply == "It ships today."
    lone = Ticket(id="T10", status="solved", messages=[Message(author="agent", body="Closing this ticket.")])
    assert split_history([t, t.model_copy(update={"id": "T11"}), lone], holdout=1)[1][0].id == "T11"


def test_a_case_that_cannot_be_drafted_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    from copilot.evaluation.runner import evaluate, write_run

    class Cp(Copilot):
        def suggest(self, ticket: Ticket | str, **kw: Any) -> Suggestion:  # type: ignore[override]
            assert isinstance(ticket, Ticket)
            if not ticket.customer_text():
                raise InputError("the ticket has no customer message to answer")
            return Suggestion(id="x", reply="Hi there,\n\nok", language="en", confidence=0.5, drafter="fake")

    cases = [EvalCase(id="ok", ticket=Ticket(messages=[Message(author="customer", body="hello")])),
             EvalCase(id="bad", ticket=Ticket(messages=[Message(author="agent", body="hello")]))]
    rows = evaluate(Cp(Settings(embedder="hash"), config=CopilotConfig(), embedder=HashEmbedder()), cases, ["language_match", "latency_ms"], progress=False)
    assert [r["id"] for r in rows] == ["ok", "bad"] and rows[1]["error"]["code"] == "invalid_input"
    summary = write_run(tmp_path, "t", rows, ["language_match", "latency_ms"], seconds=1.0, config={}, dataset=None,
                        thresholds={})
    assert summary.errors == 1 and not summary.passed and "could not be drafted" in summary.explain()
    assert "error" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_llm_judge_maps_the_grade_and_fails_visibly() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from copilot.evaluation.metrics import LLMJudge

    good = LLMJudge(FakeListChatModel(responses=['{"score": 4, "reason": "correct, a bit short"}'])).score(run())
    assert good.value == 0.75 and "4/5 (judge_reply/v1)" in good.reason
    bad = LLMJudge(FakeListChatModel(responses=['{"score": 9}'])).score(run())
    assert bad.value is None and "judge failed" in bad.reason
    with pytest.raises(ConfigError, match="no chat model is configured for judge"):
        make_metric("llm_judge", copilot=STUB)
