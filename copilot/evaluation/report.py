"""A self-contained HTML report: the gate, metric bars, grades and calibration, score distributions,
worst cases first with a drill-down.

Rendered by Jinja2 with autoescaping from ``templates/report.html.j2``: every text from a ticket, a
reply or a source is escaped. No scripts, fonts or images from elsewhere: inline CSS and SVG, so it
opens offline and can be attached to a CI run as one file. Geometry is computed here, markup lives
in the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from copilot.evaluation.metrics import COST, case_quality

__all__ = ["write_report"]

BAR_WIDTH = 220
HIST_BINS = 10
HIST_HEIGHT = 60


@dataclass
class Bar:
    """A metric's mean as a bar; coloured only when a threshold judges it."""

    name: str
    value: float | None
    width: float
    status: str                 # "pass", "fail" or "none" (no threshold: no judgement)
    threshold: float | None
    threshold_x: float | None
    n: int
    cost: str | None = None     # p50/p95 for cost metrics


@dataclass
class Column:
    x: float
    y: float
    height: float
    count: int
    label: str


@dataclass
class Histogram:
    name: str
    columns: list[Column]
    top: int
    n: int


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _case_score(row: dict[str, Any]) -> float:
    if "error" in row:
        return -1.0
    q = case_quality(row)
    return 1.0 if q is None else q


def _bars(summary: Any) -> list[Bar]:
    limits = {t.metric: t for t in summary.thresholds}
    out = []
    for name, m in summary.metrics.items():
        t = limits.get(name)
        if name in COST:
            cost = "n/a" if m.p50 is None else f"p50 {m.p50:.1f} · p95 {m.p95:.1f}"
            out.append(Bar(name, None, 0, "none" if t is None else "pass" if t.passed else "fail",
                           t.minimum if t else None, None, m.n, cost))
            continue
        value = m.mean
        width = 0.0 if value is None else max(0.0, min(1.0, value)) * BAR_WIDTH
        status = "none" if t is None else "pass" if t.passed else "fail"
        tx = None if t is None else max(0.0, min(1.0, t.minimum)) * BAR_WIDTH
        out.append(Bar(name, value, width, status, t.minimum if t else None, tx, m.n))
    return out


def _histogram(name: str, values: list[float]) -> Histogram:
    counts = [0] * HIST_BINS
    for v in values:
        counts[min(HIST_BINS - 1, int(max(0.0, min(1.0, v)) * HIST_BINS))] += 1
    top = max(counts) or 1
    cols = [Column(x=30 + i * 22, y=12 + HIST_HEIGHT - HIST_HEIGHT * c / top, height=HIST_HEIGHT * c / top, count=c,
                   label=f"{i / HIST_BINS:.1f}–{(i + 1) / HIST_BINS:.1f}") for i, c in enumerate(counts)]
    return Histogram(name, cols, max(counts), len(values))


def _citations(s: dict[str, Any]) -> list[dict[str, Any]]:
    # Only web links become links: a source's url is data, and "javascript:" must not be clickable.
    return [{"source_id": c["source_id"], "kind": c["kind"], "title": c.get("title") or "",
             "url": c["url"] if str(c.get("url") or "").startswith(("https://", "http://")) else "",
             "snippet": c.get("snippet") or ""} for c in s.get("citations", [])]


def _case(row: dict[str, Any]) -> dict[str, Any]:
    case = row["case"]
    out: dict[str, Any] = {"id": row["id"], "score": _case_score(row),
                           "ticket": "\n\n".join(m["body"] for m in case["ticket"].get("messages", [])
                                                 if m["author"] == "customer"),
                           "reference": case.get("reference_reply"), "error": row.get("error")}
    if "suggestion" in row:
        s = row["suggestion"]
        out.update(reply=s["reply"], language=s["language"], flags=s["flags"], confidence=s["confidence"],
                   citations=_citations(s), metrics=row["metrics"])
    return out


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("copilot.evaluation", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(fmt=_fmt, pct=_pct)
    env.globals.update(plural=_plural)
    return env


def render_report(summary: Any, rows: list[dict[str, Any]]) -> str:
    hists = []
    for name in summary.metrics:
        if name in COST:
            continue
        hists.append(_histogram(name, [r["metrics"][name]["value"] for r in rows
                                       if r["metrics"][name]["value"] is not None]))
    cases = [_case(r) for r in sorted(rows, key=_case_score)]
    return _env().get_template("report.html.j2").render(
        s=summary, bars=_bars(summary), hists=hists, cases=cases, bar_width=BAR_WIDTH, g=summary.grading,
        cost=COST)


def write_report(out: Path, summary: Any, rows: list[dict[str, Any]]) -> Path:
    path = out / "report.html"
    path.write_text(render_report(summary, rows), encoding="utf-8")
    return path
