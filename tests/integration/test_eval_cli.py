"""`copilot eval`: a suite to a run folder and a gate; compare; backtest on resolved tickets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from copilot.cli import main

pytestmark = pytest.mark.integration
SMOKE = Path(__file__).resolve().parents[2] / "eval" / "suites" / "smoke.yaml"


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "smoke"
    assert main(["eval", "run", str(SMOKE), "--out", str(out)]) == 0
    return out


def test_the_smoke_suite_passes_its_gate_and_writes_a_run_folder(smoke_run: Path) -> None:
    summary = json.loads((smoke_run / "summary.json").read_text(encoding="utf-8"))
    assert summary["passed"] and summary["cases"] == 6 and summary["drafters"] == ["embedded"]
    assert summary["dataset_hash"] and summary["config_hash"] and summary["prompt_versions"] == ["embedded_reply/v2"]
    assert summary["metrics"]["language_match"]["mean"] == 1.0
    rows = [json.loads(x) for x in (smoke_run / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in rows} >= {"en-refund", "zh-refund", "injection-refund"}
    assert all(set(r["metrics"]["recall@5"]) == {"value", "reason"} for r in rows)
    report = (smoke_run / "report.html").read_text(encoding="utf-8")
    assert "PASSED" in report and "en-refund" in report and "<svg" in report and "http" not in report.split("<body>")[0]


def test_deterministic_metrics_are_identical_on_a_rerun(smoke_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert main(["eval", "run", str(SMOKE), "--out", str(again)]) == 0

    def scores(p: Path) -> dict[str, dict[str, float]]:
        rows = [json.loads(x) for x in (p / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
        return {r["id"]: {k: m["value"] for k, m in r["metrics"].items() if k != "latency_ms"} for r in rows}

    assert scores(smoke_run) == scores(again)
    assert main(["eval", "compare", str(smoke_run), str(again), "--fail-on-regression"]) == 0


def test_compare_gates_like_run_cost_metrics_by_p95_under_the_limit(smoke_run: Path, tmp_path: Path) -> None:
    summary = json.loads((smoke_run / "summary.json").read_text(encoding="utf-8"))
    p95 = summary["metrics"]["latency_ms"]["p95"]
    junit = tmp_path / "compare.xml"
    # A latency limit well above the p95 passes (it used to fail: the mean was compared as a minimum).
    assert main(["eval", "compare", str(smoke_run), str(smoke_run), "--fail-under", f"latency_ms={p95 * 10 + 500}",
                 "--fail-under", "language_match=1"]) == 0
    assert main(["eval", "compare", str(smoke_run), str(smoke_run), "--fail-under", f"latency_ms={p95 / 10}",
                 "--junit", str(junit)]) == 1
    [failure] = [tc for tc in ET.parse(junit).getroot() if tc.find("failure") is not None]
    assert failure.get("name") == f"latency_ms <= {p95 / 10}"


def test_a_threshold_fails_the_command_and_the_junit_says_why(smoke_run: Path, tmp_path: Path) -> None:
    junit = tmp_path / "gate.xml"
    code = main(["eval", "run", str(SMOKE), "--out", str(tmp_path / "strict"), "--fail-under", "mrr=0.99",
                 "--junit", str(junit)])
    assert code == 1
    failures = [tc for tc in ET.parse(junit).getroot() if tc.find("failure") is not None]
    assert [tc.get("name") for tc in failures] == ["mrr >= 0.99"]


def test_bad_suites_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndataset: missing.jsonl\nmetrcs: []\n", encoding="utf-8")
    assert main(["eval", "run", str(bad)]) == 2
    assert "metrcs" in capsys.readouterr().err


def test_backtest_scores_held_out_tickets_against_what_the_agent_sent(tmp_path: Path, corpus: dict[str, Path],
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COPILOT_EMBEDDER", "hash")
    out = tmp_path / "bt"
    code = main(["eval", "backtest", "--tickets", str(corpus["tickets"]), "--holdout", "2", "--out", str(out),
                 "--fail-under", "language_match=1"])
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(x) for x in (out / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2 and all(r["case"]["reference_reply"] for r in rows)
    assert all(r["metrics"]["rouge_l"]["value"] is not None for r in rows)
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["name"] == "backtest"


@pytest.mark.parametrize("name", ["multilingual", "safety", "brand_voice"])
def test_every_shipped_suite_passes_its_gate(name: str, tmp_path: Path) -> None:
    suite = SMOKE.parent / f"{name}.yaml"
    assert main(["eval", "run", str(suite), "--out", str(tmp_path / name)]) == 0


def test_the_pytest_plugin_runs_a_suite_with_assertions(copilot_suite: Any) -> None:
    summary = copilot_suite(SMOKE, fail_under={"mrr": 0.99})
    assert not summary.passed and "mrr" in summary.explain()
    assert copilot_suite(SMOKE).passed


def test_the_report_renders_in_headless_chromium(smoke_run: Path) -> None:
    import os
    import shutil

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.environ.get("CI") and not Path(chromium).exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    artifacts = Path(os.environ.get("COPILOT_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1150, "height": 1000})
        page.goto((smoke_run / "report.html").as_uri())
        assert page.inner_text("h1").startswith("smoke: PASSED")
        assert page.locator("svg").count() > 10 and page.locator("details").count() == 6
        page.locator("details summary").first.click()
        assert page.locator("details[open] pre").first.is_visible()
        page.screenshot(path=str(artifacts / "eval-report.png"), full_page=True)
        browser.close()


def test_bad_import_input_is_a_clear_error_and_writes_nothing(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    not_json = tmp_path / "dialogs.txt"
    not_json.write_text("hello\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["eval", "import", "tweetsumm", str(not_json), "--as", "cases", "--out", str(out)]) == 2
    assert f"{not_json}:1: not valid JSON" in capsys.readouterr().err and not out.exists()
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["eval", "import", "csv", str(table), "--as", "cases", "--map", "text=a", "--where", "b=9",
                 "--out", str(out)]) == 2
    assert "nothing to import" in capsys.readouterr().err and not out.exists()
    assert main(["eval", "import", "csv", str(table), "--as", "cases", "--map", "text", "--out", str(out)]) == 2
    assert "use --map FIELD=COLUMN" in capsys.readouterr().err


def test_unwritable_outputs_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(["sidebar", "package", "zendesk", "--out", str(blocker / "x.zip")]) == 2
    assert "error [io_error]" in capsys.readouterr().err


def test_graded_cases_give_acceptance_harm_coverage_and_calibration_through_eval_run(
        tmp_path: Path, corpus: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COPILOT_EMBEDDER", "hash")
    cases = [{"id": "refund", "ticket": {"brand": "acme", "messages": [
                 {"author": "customer", "body": "Where is my refund? I returned the lamp."}]}},
             {"id": "shipping", "ticket": {"brand": "acme", "messages": [
                 {"author": "customer", "body": "How long does standard shipping take?"}]}},
             {"id": "nothing", "ticket": {"brand": "acme", "messages": [
                 {"author": "customer", "body": "zxqv blorp wibble"}]}}]
    dataset = tmp_path / "graded.jsonl"
    dataset.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    suite = tmp_path / "graded.yaml"
    suite.write_text(f"name: graded\ndataset: graded.jsonl\ncopilot:\n  config: {corpus['config']}\n"
                     f"  kb: [{corpus['kb']}]\n  tickets: [{corpus['tickets']}]\n  brand: acme\n"
                     "metrics: [leftovers, coverage, acceptance, harmless, latency_ms]\n", encoding="utf-8")
    assert main(["eval", "run", str(suite), "--out", str(tmp_path / "first"), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["grading"]["counts"]["ungraded"] == first["grading"]["shown"] and first["grading"]["acceptance"] is None
    # A QA lead grades what the drafter wrote: the next run counts those grades.
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "first" / "cases.jsonl").read_text().splitlines())}
    # The more confident draft graded A, the other D: confidence then ranks quality perfectly (AUROC 1).
    low, high = sorted(["refund", "shipping"], key=lambda i: rows[i]["suggestion"]["confidence"])
    assert rows[low]["suggestion"]["confidence"] < rows[high]["suggestion"]["confidence"]
    grades = {high: ("A", 0.9), low: ("D", 0.1), "nothing": ("not_shown", 0.0)}
    for c in cases:
        c["grades"] = [{"reply": rows[c["id"]]["suggestion"]["reply"], "grade": grades[c["id"]][0],
                        "patterns": ["wrong_problem"] if grades[c["id"]][0] == "D" else []}]
    dataset.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    code = main(["eval", "run", str(suite), "--out", str(tmp_path / "second"), "--json",
                 "--fail-under", "harmless=0.9"])
    summary = json.loads(capsys.readouterr().out)
    g = summary["grading"]
    # The gibberish ticket abstains (no evidence); the two others are shown with the grades given.
    assert code == 1 and summary["report"].endswith("report.html")   # harmless 0.5 < 0.9: the gate fails
    assert g["counts"] == {"A": 1, "B": 0, "C": 0, "D": 1, "not_shown": 1, "ungraded": 0}
    assert g["coverage"] == pytest.approx(2 / 3) == summary["metrics"]["coverage"]["mean"]
    assert g["acceptance"] == 0.5 and g["harm"] == 0.5 and g["auroc"] == 1.0 and g["patterns"] == {"wrong_problem": 1}
    assert summary["metrics"]["harmless"]["mean"] == 0.5 and summary["metrics"]["leftovers"]["n"] == 3
    html = (tmp_path / "second" / "report.html").read_text(encoding="utf-8")
    assert "Coverage, grades and calibration" in html and "(3 cases)" in html


def test_accepted_suggestions_export_as_graded_cases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from copilot.feedback import FeedbackStore
    from copilot.models import Message, Suggestion, Ticket

    data = tmp_path / "data"
    store = FeedbackStore.for_data_dir(data)
    s = Suggestion(id="s1", reply="Refunds take 5 to 7 business days.", language="en", confidence=0.8,
                   drafter="embedded", brand="acme")
    store.save_suggestion(s, Ticket(brand="acme", messages=[Message(author="customer", body="Where is my refund?")]))
    out = tmp_path / "cases.jsonl"
    assert main(["eval", "export-feedback", "--data-dir", str(data), "--out", str(out)]) == 2
    assert "no feedback to export" in capsys.readouterr().err and not out.exists()
    from copilot.models import FeedbackRecord

    store.record(FeedbackRecord(suggestion_id="s1", outcome="accepted", agent="U1", final_text=s.reply, brand="acme"))
    assert main(["eval", "export-feedback", "--data-dir", str(data), "--out", str(out)]) == 0
    assert "wrote 1 graded cases (A 1)" in capsys.readouterr().out
    case = json.loads(out.read_text(encoding="utf-8"))
    assert case["grades"][0]["grade"] == "A" and case["ticket"]["messages"][0]["body"] == "Where is my refund?"
