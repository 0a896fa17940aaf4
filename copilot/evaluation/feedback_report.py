"""Feedback analytics: what agents did with suggestions, by brand, top action, prompt version and drafter."""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from copilot.models import FeedbackRecord

__all__ = ["FeedbackAnalytics", "Group", "analyse", "write_feedback_report"]

DIMENSIONS = ("brand", "top_action", "prompt_version", "drafter")


class Group(BaseModel):
    key: str
    total: int
    accepted: int
    edited: int
    rejected: int
    ignored: int
    acceptance_rate: float          # (accepted + edited) / total
    as_is_rate: float               # accepted / total
    median_edit_ratio: float | None  # among edited replies
    reasons: dict[str, int]


class FeedbackAnalytics(BaseModel):
    overall: Group
    by: dict[str, list[Group]]
    edit_ratio_histogram: list[int]  # edited replies per tenth of edit ratio (last bin: >= 0.9)


def _group(key: str, recs: list[FeedbackRecord]) -> Group:
    c = Counter(r.outcome for r in recs)
    ratios = sorted(r.edit_ratio for r in recs if r.outcome == "edited" and r.edit_ratio is not None)
    total = len(recs)
    return Group(key=key, total=total, accepted=c["accepted"], edited=c["edited"], rejected=c["rejected"],
                 ignored=c["ignored"], acceptance_rate=round((c["accepted"] + c["edited"]) / total, 4) if total else 0.0,
                 as_is_rate=round(c["accepted"] / total, 4) if total else 0.0,
                 median_edit_ratio=ratios[len(ratios) // 2] if ratios else None,
                 reasons=dict(Counter(r.reason for r in recs if r.reason).most_common()))


def analyse(records: Iterable[FeedbackRecord]) -> FeedbackAnalytics:
    """Analyse outcomes (e.g. ``Copilot.feedback_records(brand=...)``)."""
    recs = list(records)
    by: dict[str, list[Group]] = {}
    for dim in DIMENSIONS:
        buckets: dict[str, list[FeedbackRecord]] = defaultdict(list)
        for r in recs:
            buckets[str(getattr(r, dim) or "(none)")].append(r)
        by[dim] = sorted((_group(k, v) for k, v in buckets.items()), key=lambda g: -g.total)
    hist = [0] * 10
    for r in recs:
        if r.outcome == "edited" and r.edit_ratio is not None:
            hist[min(9, int(r.edit_ratio * 10))] += 1
    return FeedbackAnalytics(overall=_group("all", recs), by=by, edit_ratio_histogram=hist)


def _stacked(g: Group, width: int = 300) -> str:
    if not g.total:
        return ""
    x, parts = 0.0, []
    for n, color, label in ((g.accepted, "#1a7f37", "sent as is"), (g.edited, "#0969da", "edited"),
                            (g.rejected, "#cf222e", "rejected"), (g.ignored, "#8c959f", "ignored")):
        w = width * n / g.total
        parts.append(f'<rect x="{x:.1f}" width="{w:.1f}" height="14" fill="{color}"><title>{label}: {n}</title></rect>')
        x += w
    return f'<svg width="{width}" height="14" role="img">{"".join(parts)}</svg>'


def write_feedback_report(a: FeedbackAnalytics, path: Path) -> Path:
    e = html.escape
    rows: list[str] = []
    for dim, groups in a.by.items():
        rows.append(f"<h2>By {e(dim.replace('_', ' '))}</h2><table><tr><th>{e(dim)}</th><th>n</th><th>outcomes</th>"
                    "<th>acceptance</th><th>as is</th><th>median edit</th><th>rejection reasons</th></tr>")
        for g in groups:
            med = "n/a" if g.median_edit_ratio is None else f"{g.median_edit_ratio:.2f}"
            reasons = ", ".join(f"{k} {v}" for k, v in g.reasons.items()) or "—"
            rows.append(f"<tr><td>{e(g.key)}</td><td>{g.total}</td><td>{_stacked(g)}</td>"
                        f"<td>{g.acceptance_rate:.0%}</td><td>{g.as_is_rate:.0%}</td><td>{med}</td><td>{e(reasons)}</td></tr>")
        rows.append("</table>")
    top = max(a.edit_ratio_histogram) or 1
    hist = "".join(f'<rect x="{i * 26}" y="{80 - 78 * c / top:.1f}" width="24" height="{78 * c / top:.1f}" '
                   f'fill="#0969da"><title>{i / 10:.1f}–{(i + 1) / 10:.1f}: {c}</title></rect>'
                   for i, c in enumerate(a.edit_ratio_histogram))
    o = a.overall
    doc = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Feedback</title><style>"
           "body{font-family:system-ui,'Noto Sans',sans-serif;margin:24px;color:#1f2328;max-width:1100px}"
           "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:4px 8px;"
           "text-align:left;font-size:13px}</style></head><body>"
           f"<h1>Agent feedback</h1><p>{o.total} outcomes: acceptance {o.acceptance_rate:.0%} "
           f"(sent as is {o.as_is_rate:.0%}, after an edit {o.edited}), rejected {o.rejected}, ignored {o.ignored}.</p>"
           f"{_stacked(o, 600)}<h2>Edit distance (share of the suggestion's words changed)</h2>"
           f"<svg width='270' height='96'>{hist}<text x='0' y='94' font-size='10'>0</text>"
           f"<text x='244' y='94' font-size='10'>≥0.9</text></svg>{''.join(rows)}</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc, encoding="utf-8")
    return path


def print_table(a: FeedbackAnalytics, out: Any) -> None:
    o = a.overall
    print(f"{o.total} outcomes: acceptance {o.acceptance_rate:.1%} (as is {o.as_is_rate:.1%}), "
          f"edited {o.edited}, rejected {o.rejected}, ignored {o.ignored}", file=out)
    if o.reasons:
        print("rejection reasons: " + ", ".join(f"{k} {v}" for k, v in o.reasons.items()), file=out)
    for dim, groups in a.by.items():
        print(f"\nby {dim}:", file=out)
        for g in groups[:15]:
            med = "n/a" if g.median_edit_ratio is None else f"{g.median_edit_ratio:.2f}"
            print(f"  {g.key:<28} n={g.total:<5} acceptance {g.acceptance_rate:>6.1%}  as is {g.as_is_rate:>6.1%}  "
                  f"median edit {med}", file=out)
