"""Blind grading of drafted replies, the way a QA lead reviews a sample (scale: A/B/C/D, not shown).

    python bench/grading.py make --runs bench/out/replies-valid/embedded.jsonl bench/out/replies-valid/baseline.jsonl \\
        --out sheet.jsonl --key key.json [--sample 60] [--seed 13] [--view sheet.md]
    (graders fill "grade" and "patterns" in sheet.jsonl, reading sheet.md if they like)
    python bench/grading.py report --sheet sheet.jsonl --key key.json [--json]
    python bench/grading.py attach --sheet sheet.jsonl --key key.json --cases dataset.jsonl --out graded.jsonl

make: the replies of several systems for the same cases, shuffled together with a fixed seed under
row labels that do not say which system wrote them (the key does; keep it away from graders). A
reply its system flagged as abstaining (low_confidence / no_evidence) is pre-filled "not_shown";
a grader may still change it. Confidence is kept out of the sheet so it cannot sway a grade.

report: unblinds and prints per system: counts of A/B/C/D/not shown, coverage, acceptance
((A+B)/shown), harm (D/shown), mean confidence per grade, AUROC of confidence (A+B vs C+D), and
counts per failure pattern.

attach: copies the grades into an evaluation dataset (JSONL cases, by case id), so that
`copilot eval run` counts them for any drafter that writes the same reply.

A run is a JSONL of rows {"id", "system", "customer": [str], "reference", "reply", "confidence",
"flags"} (bench/replies.py writes them), or a `copilot eval run` folder (its cases.jsonl).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot.evaluation.grading import GRADES, GradedItem, GradedReply, GradeStats, grade_stats, is_shown

PATTERNS = ("wrong_problem", "leftover", "invented", "asks_given", "frame", "language", "generic",
            "misses_part", "tone", "truncated")


def _die(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def read_run(path: Path) -> list[dict[str, Any]]:
    """Rows in the bench shape, from a bench JSONL or a `copilot eval run` folder."""
    if path.is_dir():
        path = path / "cases.jsonl"
        if not path.is_file():
            _die(f"{path.parent} is not a run folder (no cases.jsonl)")
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if "suggestion" not in r:
                continue
            s = r["suggestion"]
            rows.append({"id": r["id"], "system": f"{path.parent.name}:{s['drafter']}",
                         "customer": [m["body"] for m in r["case"]["ticket"].get("messages", [])
                                      if m["author"] == "customer"],
                         "reference": r["case"].get("reference_reply") or "", "reply": s["reply"],
                         "confidence": s["confidence"], "flags": s["flags"]})
        return rows
    if not path.is_file():
        _die(f"run not found: {path}")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            rows.append({k: r[k] for k in ("id", "customer", "reference", "reply", "confidence", "flags")}
                        | {"system": r.get("system") or path.stem})
        except (json.JSONDecodeError, KeyError) as exc:
            _die(f"{path}:{n}: not a run row ({exc})")
    return rows


def make(args: argparse.Namespace) -> None:
    runs = [read_run(p) for p in args.runs]
    systems = [rows[0]["system"] if rows else str(p) for rows, p in zip(runs, args.runs, strict=True)]
    if len(set(systems)) != len(systems):
        systems = [f"{s}#{i}" for i, s in enumerate(systems, 1)]
    common = set.intersection(*(set(r["id"] for r in rows) for rows in runs))
    if not common:
        _die("the runs share no case ids")
    rng = random.Random(args.seed)
    ids = sorted(common)
    if args.sample and args.sample < len(ids):
        ids = sorted(rng.sample(ids, args.sample))
    chosen = set(ids)
    entries = [(system, r) for system, rows in zip(systems, runs, strict=True) for r in rows if r["id"] in chosen]
    rng.shuffle(entries)
    sheet, key = [], {}
    for i, (system, r) in enumerate(entries, 1):
        row_id = f"r{i:04d}"
        shown = is_shown(r["flags"])
        sheet.append({"row": row_id, "case": r["id"], "customer": r["customer"], "reference": r["reference"],
                      "reply": r["reply"], "shown": shown, "grade": "" if shown else "not_shown", "patterns": [],
                      "note": ""})
        key[row_id] = {"system": system, "case": r["id"], "confidence": r["confidence"], "flags": r["flags"],
                       "reply": r["reply"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in sheet), encoding="utf-8")
    args.key.write_text(json.dumps({"seed": args.seed, "systems": systems, "rows": key}, indent=1,
                                   ensure_ascii=False), encoding="utf-8")
    if args.view:
        args.view.write_text(view(sheet), encoding="utf-8")
    print(f"{len(sheet)} rows ({len(ids)} cases x {len(runs)} systems) -> {args.out}; key -> {args.key}")


def view(sheet: list[dict[str, Any]]) -> str:
    """The sheet as Markdown, for reading while grading."""
    out = ["# Grading sheet\n", "Grades: A send as is, B small edit, C rewrite, D wrong or harmful, not_shown "
           f"(abstained). Patterns: {', '.join(PATTERNS)} (or your own).\n"]
    for x in sheet:
        out.append(f"\n## {x['row']} (case {x['case'][:10]}){'' if x['shown'] else ' — flagged, not shown'}\n")
        out += [f"> customer: {m}" for m in x["customer"]]
        out.append(f"\n**reply:** {x['reply']}\n\n*agent's actual reply:* {x['reference']}\n")
    return "\n".join(out)


def read_graded(sheet_path: Path, key_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    key = json.loads(key_path.read_text(encoding="utf-8"))
    rows, bad = [], []
    for n, line in enumerate(sheet_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        x = json.loads(line)
        if x["row"] not in key["rows"]:
            _die(f"{sheet_path}:{n}: row {x['row']} is not in the key (another sheet's key?)")
        patterns = x.get("patterns") or []
        x["patterns"] = [p.strip() for p in (patterns.split(",") if isinstance(patterns, str) else patterns)
                         if p.strip()]
        if x.get("grade") not in GRADES:
            bad.append(f"{x['row']} ({x.get('grade')!r})")
        rows.append(x)
    if bad:
        _die(f"{len(bad)} rows without a valid grade ({', '.join(GRADES)}): {', '.join(bad[:10])}")
    return rows, key


def report(args: argparse.Namespace) -> None:
    rows, key = read_graded(args.sheet, args.key)
    stats: dict[str, GradeStats] = {}
    for system in key["systems"]:
        items = [GradedItem(x["grade"], key["rows"][x["row"]]["confidence"], x["patterns"]) for x in rows
                 if key["rows"][x["row"]]["system"] == system]
        stats[system] = grade_stats(items)
    if args.json:
        print(json.dumps({k: v.model_dump() for k, v in stats.items()}, indent=2))
        return
    print(f"{'system':<24} {'A':>3} {'B':>3} {'C':>3} {'D':>3} {'n/s':>4} {'coverage':>9} {'acceptance':>10} "
          f"{'harm':>6} {'AUROC':>6}   mean confidence A / B / C / D")
    for system, s in stats.items():
        c, mc = s.counts, s.mean_confidence

        def f(v: float | None, pct: bool = True) -> str:
            return "n/a" if v is None else f"{v:.0%}" if pct else f"{v:.2f}"

        print(f"{system:<24} {c['A']:>3} {c['B']:>3} {c['C']:>3} {c['D']:>3} {c['not_shown']:>4} "
              f"{f(s.coverage):>9} {f(s.acceptance):>10} {f(s.harm):>6} {f(s.auroc, False):>6}   "
              + " / ".join(f(mc[g], False) for g in "ABCD"))
    for system, s in stats.items():
        if s.patterns:
            print(f"\n{system}: failure patterns")
            for p, n in s.patterns.items():
                print(f"  {p:<20} {n}")


def attach(args: argparse.Namespace) -> None:
    from copilot.evaluation.cases import load_cases

    rows, key = read_graded(args.sheet, args.key)
    cases = load_cases(args.cases)
    by_case: dict[str, list[GradedReply]] = {}
    for x in rows:
        k = key["rows"][x["row"]]
        by_case.setdefault(k["case"], []).append(GradedReply(reply=k["reply"], grade=x["grade"],
                                                             patterns=x["patterns"], note=x.get("note", ""),
                                                             source=k["system"]))
    n = 0
    for case in cases:
        for g in by_case.get(case.id, []):
            if not any(" ".join(o.reply.split()) == " ".join(g.reply.split()) for o in case.grades):
                case.grades.append(g)
                n += 1
    args.out.write_text("".join(c.model_dump_json(exclude_defaults=True) + "\n" for c in cases), encoding="utf-8")
    print(f"attached {n} grades to {sum(1 for c in cases if c.id in by_case)} cases -> {args.out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make", help="a blind sheet from several runs, and its key")
    m.add_argument("--runs", type=Path, nargs="+", required=True)
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--key", type=Path, required=True)
    m.add_argument("--sample", type=int, help="grade a fixed random sample of N cases (the same for every system)")
    m.add_argument("--seed", type=int, default=13)
    m.add_argument("--view", type=Path, help="also write the sheet as Markdown for reading")
    m.set_defaults(func=make)
    r = sub.add_parser("report", help="unblind a graded sheet: per-system counts, acceptance, harm, AUROC")
    r.add_argument("--sheet", type=Path, required=True)
    r.add_argument("--key", type=Path, required=True)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=report)
    a = sub.add_parser("attach", help="copy the grades into an evaluation dataset")
    a.add_argument("--sheet", type=Path, required=True)
    a.add_argument("--key", type=Path, required=True)
    a.add_argument("--cases", type=Path, required=True)
    a.add_argument("--out", type=Path, required=True)
    a.set_defaults(func=attach)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
