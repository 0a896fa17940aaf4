"""Compare two runs case by case, with a paired bootstrap, and write JUnit XML for CI gates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
from pydantic import BaseModel

from copilot.errors import InputError
from copilot.evaluation.metrics import COST, case_quality

__all__ = ["Comparison", "compare_runs", "load_run", "paired_bootstrap", "write_junit"]

BOOTSTRAP_SAMPLES = 2000
WORSE_BY = 0.1   # a case "got worse" when its mean quality score drops by more than this


class MetricDelta(BaseModel):
    metric: str
    a: float | None
    b: float | None
    delta: float | None
    n_paired: int
    p_value: float | None   # two-sided, paired bootstrap; None when fewer than 2 pairs
    significant: bool


class CaseChange(BaseModel):
    id: str
    a: float
    b: float
    worst_metric: str | None


class Comparison(BaseModel):
    a: str
    b: str
    metrics: list[MetricDelta]
    worse: list[CaseChange]
    better: int


def load_run(path: Path) -> dict[str, dict[str, Any]]:
    cases = path / "cases.jsonl"
    if not cases.is_file():
        raise InputError(f"not a run folder: {path}", hint="pass a folder written by `copilot eval run`")
    return {r["id"]: r for r in (json.loads(line) for line in cases.read_text(encoding="utf-8").splitlines() if line)}


def paired_bootstrap(a: list[float], b: list[float], *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> float:
    """Two-sided p-value that the mean of b - a is zero (a fixed seed: the same runs, the same p)."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    if not d.any():
        return 1.0
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(samples, len(d)))].mean(axis=1)
    return float(min(1.0, 2 * min((means <= 0).mean(), (means >= 0).mean())))


def compare_runs(path_a: Path, path_b: Path, *, alpha: float = 0.05) -> Comparison:
    a, b = load_run(path_a), load_run(path_b)
    common = [cid for cid in a if cid in b]
    if not common:
        raise InputError("the two runs share no case ids", hint="compare runs of the same suite or dataset")
    names = list(dict.fromkeys(k for cid in common for k in a[cid]["metrics"]))
    deltas = []
    for name in names:
        pairs = [(a[c]["metrics"][name]["value"], b[c]["metrics"].get(name, {}).get("value")) for c in common
                 if name in a[c]["metrics"]]
        pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
        ma = float(np.mean([x for x, _ in pairs])) if pairs else None
        mb = float(np.mean([y for _, y in pairs])) if pairs else None
        p = paired_bootstrap([x for x, _ in pairs], [y for _, y in pairs]) if len(pairs) >= 2 else None
        deltas.append(MetricDelta(metric=name, a=ma, b=mb, delta=None if ma is None or mb is None else mb - ma,
                                  n_paired=len(pairs), p_value=p, significant=p is not None and p < alpha))
    worse, better = [], 0
    for cid in common:
        qa, qb = case_quality(a[cid]), case_quality(b[cid])
        if qa is None or qb is None:
            continue
        if qb < qa - WORSE_BY:
            drops = {k: (a[cid]["metrics"][k]["value"] or 0) - (m["value"] or 0) for k, m in b[cid]["metrics"].items()
                     if k not in COST and k in a[cid]["metrics"] and m["value"] is not None}
            worse.append(CaseChange(id=cid, a=qa, b=qb, worst_metric=max(drops, key=lambda k: drops[k]) if drops else None))
        elif qb > qa + WORSE_BY:
            better += 1
    worse.sort(key=lambda c: c.b - c.a)
    return Comparison(a=str(path_a), b=str(path_b), metrics=deltas, worse=worse, better=better)


def write_junit(path: Path, suite: str, checks: list[tuple[str, bool, str]]) -> None:
    """One test case per check (name, passed, message): CI shows which gate failed and why."""
    root = ET.Element("testsuite", name=suite, tests=str(len(checks)),
                      failures=str(sum(1 for _, ok, _ in checks if not ok)))
    for name, ok, message in checks:
        case = ET.SubElement(root, "testcase", classname=f"copilot.eval.{suite}", name=name)
        if not ok:
            ET.SubElement(case, "failure", message=message).text = message
        else:
            ET.SubElement(case, "system-out").text = message
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
