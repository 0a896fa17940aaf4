"""Run a suite (or a backtest) and write a run folder.

    RUN/cases.jsonl    one line per case: inputs, the suggestion, every metric with its reason
    RUN/summary.json   means (p50/p95 for cost), thresholds and verdict, git commit, config hash,
                       prompt versions, drafters, dataset hash, time per case
    RUN/report.html    self-contained report (see report.py)
"""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from copilot.evaluation.cases import EvalCase, Suite, dataset_hash, load_cases
from copilot.evaluation.grading import GradedItem, GradedReply, GradeStats, find_grade, grade_stats, is_shown
from copilot.evaluation.metrics import COST, DEFAULT, CaseRun, Metric, make_metric

if TYPE_CHECKING:
    from copilot.service import Copilot

__all__ = ["RunSummary", "build_copilot", "evaluate", "gate", "gate_checks", "load_summary", "parse_pairs",
           "parse_thresholds", "run_suite"]


class MetricSummary(BaseModel):
    mean: float | None
    n: int
    p50: float | None = None
    p95: float | None = None


class ThresholdResult(BaseModel):
    metric: str
    minimum: float
    value: float | None
    passed: bool


class RunSummary(BaseModel):
    name: str
    created_at: str
    git_commit: str | None
    config_hash: str
    dataset: str | None
    dataset_hash: str | None
    drafters: list[str]
    prompt_versions: list[str]
    cases: int
    errors: int = 0                  # cases that could not be drafted (see their rows); they fail the gate
    seconds: float
    seconds_per_case: float
    metrics: dict[str, MetricSummary]
    thresholds: list[ThresholdResult] = Field(default_factory=list)
    passed: bool = True
    # Coverage, human grades and calibration, when the run measures coverage or grades (see grading.py).
    grading: GradeStats | None = None

    def explain(self) -> str:
        """The failed gates, one per line (for assertion messages)."""
        failed = [f"{t.metric} = {t.value} (threshold {t.minimum})" for t in self.thresholds if not t.passed]
        if self.errors:
            failed.append(f"{self.errors} cases could not be drafted")
        return "\n".join(failed) or "all gates passed"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def build_copilot(suite: Suite, data_dir: Path) -> Copilot:
    """A Copilot configured by the suite, its sources indexed in ``data_dir``."""
    from copilot.config import load_config
    from copilot.service import Copilot
    from copilot.settings import Settings

    c = suite.copilot
    demo = Path(str(resources.files("copilot").joinpath("demo")))
    overrides: dict[str, Any] = {"data_dir": data_dir}
    for key in ("embedder", "llm_model", "llm_base_url", "judge_model", "judge_base_url", "top_k"):
        if getattr(c, key) is not None:
            overrides[key] = getattr(c, key)
    config_path = suite.resolve(c.config) if c.config else (demo / "config.yaml" if c.demo else None)
    cp = Copilot(Settings(**overrides), config=load_config(config_path))
    kb = [suite.resolve(p) for p in c.kb] + ([demo / "kb"] if c.demo else [])
    tickets = [suite.resolve(p) for p in c.tickets] + ([demo / "tickets.jsonl"] if c.demo else [])
    if kb or tickets:
        cp.ingest(kb, tickets, brand=c.brand or ("acme" if c.demo else None), progress=False)
    cp.warm_up()  # latency is measured on a warm process, as agents see it
    return cp


def evaluate(cp: Copilot, cases: list[EvalCase], metric_names: list[str], *, brand: str | None = None,
             progress: bool = True, on_case: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Draft a suggestion for each case and score it with every metric."""
    from tqdm import tqdm

    metrics: list[Metric] = [make_metric(n, copilot=cp) for n in metric_names]
    rows = []
    from copilot.errors import CopilotError

    for case in tqdm(cases, desc="cases", unit="case", disable=not progress):
        b = brand or case.ticket.brand or cp.default_brand()
        try:
            suggestion = cp.suggest(case.ticket, brand=b)
        except CopilotError as exc:
            # One bad case is reported in its row and the summary; the others still run.
            rows.append({"id": case.id, "case": case.model_dump(mode="json", exclude_defaults=True),
                         "error": exc.to_dict(), "metrics": {m.name: {"value": None, "reason": f"error: {exc.message}"}
                                                             for m in metrics}})
            continue
        # The suggestion carries what it was drafted from: no second search.
        sources: dict[str, str] = {}
        for e in suggestion.evidence:  # an article retrieved as several sections is one source: all its text counts
            sources[e.source_id] = (sources.get(e.source_id, "") + "\n" + e.full_text).strip()
        run = CaseRun(case=case, suggestion=suggestion, retrieved=[e.source_id for e in suggestion.evidence],
                      sources=sources)
        scores = {}
        for m in metrics:
            s = m.score(run)
            scores[m.name] = {"value": s.value, "reason": s.reason}
        row = {"id": case.id, "case": case.model_dump(mode="json", exclude_defaults=True),
               "suggestion": suggestion.model_dump(mode="json"), "retrieved": run.retrieved[:10], "metrics": scores}
        rows.append(row)
        if on_case:
            on_case(row)
    return rows


def summarise(rows: list[dict[str, Any]], metric_names: list[str]) -> dict[str, MetricSummary]:
    out = {}
    for name in metric_names:
        vals = [r["metrics"][name]["value"] for r in rows if r["metrics"][name]["value"] is not None]
        if name in COST:
            out[name] = MetricSummary(mean=round(statistics.fmean(vals), 3) if vals else None, n=len(vals),
                                      p50=round(_pct(vals, 50), 3) if vals else None,
                                      p95=round(_pct(vals, 95), 3) if vals else None)
        else:
            out[name] = MetricSummary(mean=round(statistics.fmean(vals), 6) if vals else None, n=len(vals))
    return out


def parse_pairs(items: list[str], flag: str, form: str = "NAME=VALUE") -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}`` for repeatable ``NAME=VALUE`` CLI options."""
    from copilot.errors import InputError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"bad {flag} {item!r}", hint=f"use {flag} {form}")
        out[key.strip()] = value
    return out


def parse_thresholds(items: list[str]) -> dict[str, float]:
    """``["recall@5=0.8", ...]`` -> ``{"recall@5": 0.8}`` (the CLI's ``--fail-under``)."""
    from copilot.errors import InputError

    hint = "use --fail-under METRIC=MIN, e.g. --fail-under recall@5=0.8"
    out = {}
    for name, value in parse_pairs(items, "--fail-under", "METRIC=MIN").items():
        try:
            out[name] = float(value)
        except ValueError:
            raise InputError(f"bad --fail-under {name}={value}: {value!r} is not a number", hint=hint) from None
    return out


def gate(metrics: dict[str, MetricSummary], thresholds: dict[str, float]) -> list[ThresholdResult]:
    """The one gate of ``eval run``, ``eval backtest`` and ``eval compare``: each threshold against its
    metric's mean, or its p95 for cost metrics (latency, tokens), which must stay *under* it."""
    out = []
    for name, minimum in thresholds.items():
        m = metrics.get(name)
        if name in COST:
            value = m.p95 if m else None
            passed = value is not None and value <= minimum
        else:
            value = m.mean if m else None
            passed = value is not None and value >= minimum
        out.append(ThresholdResult(metric=name, minimum=minimum, value=value, passed=passed))
    return out


def gate_checks(results: list[ThresholdResult]) -> list[tuple[str, bool, str]]:
    """(name, passed, message) per threshold, as printed and written to JUnit."""
    return [(f"{t.metric} {'<=' if t.metric in COST else '>='} {t.minimum}", t.passed, f"{t.metric} = {t.value}")
            for t in results]


def load_summary(run: Path) -> RunSummary:
    path = run / "summary.json"
    if not path.is_file():
        from copilot.errors import InputError

        raise InputError(f"not a run folder: {run}", hint="pass a folder written by `copilot eval run`")
    return RunSummary.model_validate_json(path.read_text(encoding="utf-8"))


GRADING_METRICS = frozenset({"coverage", "acceptance", "harmless"})


def grade_items(rows: list[dict[str, Any]]) -> list[GradedItem]:
    """Each drafted case as grading sees it: not shown (flagged), the grade of its reply, or ungraded."""
    items = []
    for r in rows:
        if "suggestion" not in r:
            continue
        s = r["suggestion"]
        if not is_shown(s["flags"]):
            items.append(GradedItem("not_shown", s["confidence"]))
            continue
        g = find_grade([GradedReply.model_validate(x) for x in r["case"].get("grades", [])], s["reply"])
        grade = g.grade if g and g.grade != "not_shown" else None
        items.append(GradedItem(grade, s["confidence"], list(g.patterns) if g and grade else []))
    return items


def write_run(out: Path, name: str, rows: list[dict[str, Any]], metric_names: list[str], *, seconds: float,
              config: dict[str, Any], dataset: Path | None, thresholds: dict[str, float]) -> RunSummary:
    from copilot.evaluation.report import write_report

    out.mkdir(parents=True, exist_ok=True)
    with (out / "cases.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    metrics = summarise(rows, metric_names)
    results = gate(metrics, thresholds)
    summary = RunSummary(
        name=name, created_at=datetime.now(UTC).isoformat(timespec="seconds"), git_commit=_git_commit(),
        config_hash=hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16],
        dataset=str(dataset) if dataset else None, dataset_hash=dataset_hash(dataset) if dataset else None,
        drafters=sorted({r["suggestion"]["drafter"] for r in rows if "suggestion" in r}),
        prompt_versions=sorted({r["suggestion"]["prompt_version"] for r in rows
                                if "suggestion" in r and r["suggestion"]["prompt_version"]}),
        errors=sum(1 for r in rows if "error" in r),
        cases=len(rows), seconds=round(seconds, 3), seconds_per_case=round(seconds / max(1, len(rows)), 4),
        metrics=metrics, thresholds=results,
        grading=grade_stats(grade_items(rows)) if GRADING_METRICS & set(metric_names) else None,
        passed=all(t.passed for t in results) and not any("error" in r for r in rows))
    (out / "summary.json").write_text(summary.model_dump_json(indent=2), encoding="utf-8")
    write_report(out, summary, rows)
    return summary


def run_suite(suite: Suite, out: Path, *, extra_thresholds: dict[str, float] | None = None,
              progress: bool = True) -> RunSummary:
    dataset = suite.resolve(suite.dataset)
    cases = load_cases(dataset)
    names = suite.metrics or DEFAULT
    cp = build_copilot(suite, out / "index")
    t0 = time.perf_counter()
    rows = evaluate(cp, cases, names, brand=suite.copilot.brand, progress=progress)
    thresholds = {**suite.thresholds, **(extra_thresholds or {})}
    return write_run(out, suite.name, rows, names, seconds=time.perf_counter() - t0,
                     config=suite.copilot.model_dump(), dataset=dataset, thresholds=thresholds)
