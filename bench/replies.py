"""Reply quality on real Twitter customer care (TweetSumm): the embedded drafter next to the naive baseline.

    python bench/replies.py --data ../shared/data                       # train indexed, valid drafted
    python bench/replies.py --data ../shared/data --split train         # tune: 20% of train held out
    python bench/replies.py --floors bench/out/replies-valid            # recompute the floors of a run

The train conversations are imported with the same importer as `copilot eval import tweetsumm` and
indexed as resolved tickets, one brand per company handle. Each held-out conversation is drafted from
the customer's opening messages only (before the first agent reply). The naive baseline is the nearest
same-brand past ticket's first agent reply, verbatim (leading @handles removed, as Twitter adds them).

Writes one JSONL per system (`embedded.jsonl`, `baseline.jsonl`) under --out: the customer's messages,
the agent's actual first reply, the system's reply, confidence, flags, citations. These are the inputs of
blind grading (`bench/grading.py make --runs ...`). Then prints the automatic floors of the issue:
leftover names/signatures in shown replies, replies unfit for Twitter (over 280 characters or in an
e-mail frame), and ROUGE-L next to the baseline's.

--split train never reads valid: tune on it, report on valid.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot.evaluation.backtest import to_case
from copilot.evaluation.importers import import_records
from copilot.evaluation.metrics import rouge_l
from copilot.models import Ticket

SYSTEMS = ("embedded", "baseline")
_LEAD_HANDLES = re.compile(r"^(?:\s*@\w+)+[\s,:]*")
TWEET_CHARS = 280
# A greeting alone on its line, or a valediction line: the e-mail frame that Twitter agents never write.
_EMAIL_GREETING = re.compile(r"(?im)\A\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[^\n]{0,30},\s*$")
_VALEDICTION = re.compile(r"(?im)^\s*(?:best|kind|warm|warmest)? ?(?:regards|wishes|sincerely|yours truly)\b[^\n]{0,20}$")


def strip_handles(text: str) -> str:
    return _LEAD_HANDLES.sub("", text).strip()


def tickets(path: Path) -> list[Ticket]:
    return [t for t in import_records("tweetsumm", path, as_="tickets") if isinstance(t, Ticket)]


def split(data: Path, which: str, holdout: float, seed: int) -> tuple[list[Ticket], list[Ticket]]:
    """(history to index, conversations to draft)."""
    train = tickets(data / "tweetsumm" / "train.jsonl")
    if which == "valid":
        return train, tickets(data / "tweetsumm" / "valid.jsonl")
    ids = sorted(t.id for t in train)
    held = set(random.Random(seed).sample(ids, round(holdout * len(ids))))
    return [t for t in train if t.id not in held], [t for t in train if t.id in held]


def draft(args: argparse.Namespace) -> Path:
    from copilot.config import load_config
    from copilot.errors import UnknownBrandError
    from copilot.models import Suggestion
    from copilot.service import Copilot
    from copilot.settings import Settings

    history, held = split(args.data, args.split, args.holdout, args.seed)
    out: Path = args.out or Path("bench/out") / f"replies-{args.split}"
    out.mkdir(parents=True, exist_ok=True)
    index = args.index or Path("bench/out") / f"index-{args.split}"
    cp = Copilot(Settings(data_dir=index, top_k=10), config=load_config(args.config))
    t0 = time.perf_counter()
    summary = cp.ingest_records(tickets=history)
    learned = sum(x.seconds for x in summary.learned)
    print(f"indexed {len(history)} conversations ({summary.added} new) in {time.perf_counter() - t0:.0f} s, of which "
          f"{learned:.0f} s learning {len(summary.learned)} brands' voice and calibration; "
          f"drafting {len(held)} held out ({args.split})", file=sys.stderr)
    cp.warm_up()
    first_reply = {t.id: strip_handles(t.agent_replies()[0]) for t in history if t.agent_replies()}
    files = {name: (out / f"{name}.jsonl").open("w", encoding="utf-8") for name in SYSTEMS}
    cases = []
    for t in held:
        try:
            cases.append(to_case(t))
        except Exception:  # a conversation the agent opened, or one never answered: nothing to draft
            continue
    if args.limit:
        cases = cases[: args.limit]
    for i, case in enumerate(cases, 1):
        brand = case.ticket.brand or cp.default_brand()
        common = {"id": case.id, "brand": brand, "customer": [m.body for m in case.ticket.messages],
                  "reference": strip_handles(case.reference_reply or "")}
        try:
            s = cp.suggest(case.ticket, brand=brand)
        except UnknownBrandError:
            # A company with no conversation in train: the product refuses the brand, i.e. shows nothing.
            s = Suggestion(id="", reply="", language="en", confidence=0.0, flags=["no_evidence"], brand=brand,
                           drafter="none", prompt_version="")
        rows = {"embedded": {**common, "system": "embedded", "reply": s.reply, "confidence": s.confidence,
                             "flags": s.flags, "language": s.language, "latency_ms": s.latency_ms,
                             "citations": [c.source_id for c in s.citations]}}
        hits = cp.search(case.ticket.customer_text(), brand=brand, kinds=["ticket"], k=1)
        nearest = hits[0] if hits else None
        reply = first_reply.get(nearest.source_id.split(":", 1)[1], "") if nearest else ""
        # The baseline's "confidence" is how close the copied ticket is: the only signal it has.
        rows["baseline"] = {**common, "system": "baseline", "reply": reply,
                            "confidence": round(_calibrated(cp, nearest.dense if nearest else None), 3),
                            "flags": [] if reply else ["no_evidence"], "language": s.language, "latency_ms": 0.0,
                            "citations": [nearest.source_id] if nearest else []}
        for name, row in rows.items():
            files[name].write(json.dumps(row, ensure_ascii=False) + "\n")
        if i % 25 == 0:
            print(f"  {i}/{len(cases)}", file=sys.stderr)
    for fh in files.values():
        fh.close()
    (out / "run.json").write_text(json.dumps({
        "split": args.split, "holdout": args.holdout if args.split == "train" else None, "seed": args.seed,
        "history": len(history), "cases": len(cases), "config": str(args.config) if args.config else None,
    }, indent=2), encoding="utf-8")
    return out


def _calibrated(cp: Any, sim: float | None) -> float:
    if sim is None:
        return 0.0
    lo, hi = cp.embedder.floor, cp.embedder.ceiling
    return min(1.0, max(0.0, (sim - lo) / (hi - lo)))


def email_frame(reply: str) -> bool:
    return bool(_EMAIL_GREETING.search(reply) or _VALEDICTION.search(reply))


def load_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def floors(out: Path) -> dict[str, dict[str, float]]:
    """The issue's automatic floors for every system file in a run folder."""
    from copilot.checks.leftovers import find_leftovers
    from copilot.evaluation.grading import is_shown

    runs = {p.stem: load_rows(p) for p in sorted(out.glob("*.jsonl"))}
    base = runs.get("baseline")
    base_rouge = statistics.fmean(rouge_l(r["reply"], r["reference"]) for r in base) if base else None
    table: dict[str, dict[str, float]] = {}
    for name, rows in runs.items():
        shown = [r for r in rows if is_shown(r["flags"])]
        kinds = [{x.kind for x in find_leftovers(r["reply"], allowed=[*r["customer"], r["brand"]])} for r in shown]
        rouge = statistics.fmean(rouge_l(r["reply"], r["reference"]) for r in rows) if rows else 0.0
        n = max(1, len(shown))
        table[name] = {
            "cases": len(rows), "shown": len(shown), "coverage": len(shown) / max(1, len(rows)),
            "leftover_names_signatures": sum(bool(k & {"name", "signature"}) for k in kinds) / n,
            "leftover_any": sum(bool(k) for k in kinds) / n,
            "over_280_or_email_frame": sum(len(r["reply"]) > TWEET_CHARS or email_frame(r["reply"])
                                           for r in shown) / n,
            "over_280": sum(len(r["reply"]) > TWEET_CHARS for r in shown) / n,
            "email_frame": sum(email_frame(r["reply"]) for r in shown) / n,
            "rouge_l": rouge,
            "rouge_l_vs_baseline": rouge / base_rouge if base_rouge else float("nan"),
            "mean_confidence": statistics.fmean(r["confidence"] for r in rows) if rows else 0.0,
        }
    return table


def print_floors(out: Path) -> None:
    table = floors(out)
    print(f"\n## Automatic floors: {out}")
    print(f"{'system':<10} {'cases':>5} {'shown':>5} {'leftover name/sig':>18} {'(any kind)':>10} "
          f"{'>280 or e-mail':>15} {'>280':>6} {'e-mail':>7} {'ROUGE-L':>8} {'x baseline':>10} {'mean conf':>9}")
    for name, m in table.items():
        print(f"{name:<10} {m['cases']:>5.0f} {m['shown']:>5.0f} {m['leftover_names_signatures']:>17.1%} "
              f"{m['leftover_any']:>10.1%} {m['over_280_or_email_frame']:>15.1%} {m['over_280']:>6.1%} "
              f"{m['email_frame']:>7.1%} {m['rouge_l']:>8.4f} {m['rouge_l_vs_baseline']:>10.2f} "
              f"{m['mean_confidence']:>9.3f}")
    print("goals (issue 11): leftover names/signatures <= 2% of shown; >280 or e-mail frame <= 10%; "
          "ROUGE-L >= 1.25x baseline")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="folder holding tweetsumm/")
    ap.add_argument("--split", choices=["valid", "train"], default="valid",
                    help="valid: index train, draft valid; train: hold out part of train (never reads valid)")
    ap.add_argument("--holdout", type=float, default=0.2, help="share of train held out with --split train")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--config", type=Path, help="copilot config (brand profiles); default: none, as a new team")
    ap.add_argument("--out", type=Path, help="run folder (default bench/out/replies-<split>)")
    ap.add_argument("--index", type=Path, help="index folder, reused between runs (default bench/out/index-<split>)")
    ap.add_argument("--limit", type=int, help="draft only the first N conversations")
    ap.add_argument("--floors", type=Path, metavar="RUN", help="only print the floors of an existing run folder")
    args = ap.parse_args()
    if args.floors:
        print_floors(args.floors)
        return
    if not args.data:
        ap.error("--data is required (or --floors RUN)")
    print_floors(draft(args))


if __name__ == "__main__":
    main()
