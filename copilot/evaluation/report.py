"""A self-contained HTML report: metric bars, score distributions, worst cases first, drill-down.

No scripts, fonts or images from elsewhere: inline CSS and SVG, so it opens offline and can be
attached to a CI run as one file.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from copilot.evaluation.metrics import COST, case_quality

__all__ = ["write_report"]

_CSS = """
body{font-family:system-ui,"Noto Sans","Noto Sans CJK SC",sans-serif;margin:24px;color:#1f2328;max-width:1100px}
h1{font-size:22px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;font-size:13px;vertical-align:top}
.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:600}.muted{color:#59636e}
details{border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:6px 10px}
summary{cursor:pointer}pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;border-radius:6px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px}
"""


def _bar(value: float | None, width: int = 220) -> str:
    if value is None:
        return '<span class="muted">n/a</span>'
    w = max(0.0, min(1.0, value)) * width
    color = "#1a7f37" if value >= 0.8 else "#bf8700" if value >= 0.5 else "#cf222e"
    return (f'<svg width="{width + 50}" height="14" role="img" aria-label="{value:.3f}">'
            f'<rect width="{width}" height="12" fill="#eaeef2"/><rect width="{w:.1f}" height="12" fill="{color}"/>'
            f'<text x="{width + 6}" y="11" font-size="11">{value:.3f}</text></svg>')


def _histogram(values: list[float], bins: int = 10) -> str:
    """Counts per tenth of [0, 1] as a small column chart."""
    if not values:
        return '<span class="muted">no values</span>'
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(max(0.0, min(1.0, v)) * bins))] += 1
    top = max(counts) or 1
    cols = "".join(f'<rect x="{i * 22}" y="{60 - 58 * c / top:.1f}" width="20" height="{58 * c / top:.1f}" '
                   f'fill="#0969da"><title>{i / bins:.1f}–{(i + 1) / bins:.1f}: {c}</title></rect>'
                   for i, c in enumerate(counts))
    return f'<svg width="{bins * 22}" height="74" role="img">{cols}<text x="0" y="72" font-size="10">0</text>' \
           f'<text x="{bins * 22 - 10}" y="72" font-size="10">1</text></svg>'


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _case_score(row: dict[str, Any]) -> float:
    if "error" in row:
        return -1.0
    q = case_quality(row)
    return 1.0 if q is None else q


def write_report(out: Path, summary: Any, rows: list[dict[str, Any]]) -> Path:
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(summary.name)} — eval</title>"
             f"<style>{_CSS}</style></head><body>"]
    verdict = '<span class="pass">PASSED</span>' if summary.passed else '<span class="fail">FAILED</span>'
    parts.append(f"<h1>{e(summary.name)}: {verdict}</h1><p class='muted'>{summary.cases} cases · "
                 f"{summary.seconds_per_case * 1000:.0f} ms per case · drafters {e(', '.join(summary.drafters))} · "
                 f"prompts {e(', '.join(summary.prompt_versions))} · commit {e(str(summary.git_commit)[:10])} · "
                 f"config {e(summary.config_hash)} · dataset {e(str(summary.dataset_hash))} · {e(summary.created_at)}</p>")
    if summary.thresholds:
        parts.append("<h2>Gate</h2><table><tr><th>metric</th><th>threshold</th><th>value</th><th></th></tr>")
        for t in summary.thresholds:
            op = "≤" if t.metric in COST else "≥"
            value = "n/a" if t.value is None else f"{t.value:.3f}"
            status = "<span class='pass'>pass</span>" if t.passed else "<span class='fail'>fail</span>"
            parts.append(f"<tr><td>{e(t.metric)}</td><td>{op} {t.minimum}</td><td>{value}</td><td>{status}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Metrics</h2><table><tr><th>metric</th><th>mean</th><th>cases</th></tr>")
    for name, m in summary.metrics.items():
        if name in COST:
            cell = "n/a" if m.p50 is None else f"p50 {m.p50:.1f} · p95 {m.p95:.1f}"
            parts.append(f"<tr><td>{e(name)}</td><td>{cell}</td><td>{m.n}</td></tr>")
        else:
            parts.append(f"<tr><td>{e(name)}</td><td>{_bar(m.mean)}</td><td>{m.n}</td></tr>")
    parts.append("</table><h2>Score distributions</h2><div class='grid'>")
    for name in summary.metrics:
        if name in COST:
            continue
        vals = [r["metrics"][name]["value"] for r in rows if r["metrics"][name]["value"] is not None]
        parts.append(f"<div class='card'><b>{e(name)}</b><br>{_histogram(vals)}</div>")
    parts.append("</div><h2>Cases, worst first</h2>")
    for row in sorted(rows, key=_case_score):
        if "error" in row:
            parts.append(f"<details open><summary><b>{e(row['id'])}</b> — <span class='fail'>error</span></summary>"
                         f"<pre>{e(row['error']['message'])}\n{e(row['error'].get('hint') or '')}</pre></details>")
            continue
        s = row["suggestion"]
        ticket = "\n\n".join(m["body"] for m in row["case"]["ticket"].get("messages", []) if m["author"] == "customer")
        metric_rows = "".join(f"<tr><td>{e(k)}</td><td>{_fmt(m['value'])}</td><td>{e(m['reason'])}</td></tr>"
                              for k, m in row["metrics"].items())
        ref = row["case"].get("reference_reply")
        parts.append(
            f"<details><summary><b>{e(row['id'])}</b> — score {_case_score(row):.2f} · {e(s['language'])} · "
            f"flags: {e(', '.join(s['flags']) or 'none')}</summary>"
            f"<h3>Ticket</h3><pre>{e(ticket)}</pre><h3>Suggested reply</h3><pre lang='{e(s['language'])}'>"
            f"{e(s['reply'])}</pre>" + (f"<h3>Agent's reply</h3><pre>{e(ref)}</pre>" if ref else "")
            + f"<h3>Citations</h3><pre>{e(json.dumps([c['source_id'] for c in s['citations']]))}</pre>"
            f"<h3>Metrics</h3><table>{metric_rows}</table></details>")
    parts.append("</body></html>")
    path = out / "report.html"
    path.write_text("".join(parts), encoding="utf-8")
    return path
