"""Headline evaluation numbers on the public datasets, with the commands a QA lead would type.

    python bench/eval_shared.py --data path/to/data [--out runs/shared]

1. TweetSumm backtest: the 879 train conversations are the history, the 110 valid ones are held
   out; each first agent reply is drafted from the opening customer turns and compared with the
   agent's (ROUGE-L, embedding similarity, language, groundedness...).
2. Banking77 suite: train queries (split by id) are resolved tickets whose action is their intent;
   500 held-out queries are scored on action top-1 / top-3.
3. UIT-ViCoV19QA suite: the validation answers are the KB (articles), the questions are the cases;
   retrieval recall@5 / MRR / nDCG@10 in Vietnamese.
4. AFQMC suite: second questions of a 15% id-split are the KB, the first questions of its positive
   pairs are the cases; Chinese retrieval recall@5 / MRR.

Every step is a `copilot eval` command; the script prints them, runs them, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path


def sh(cmd: list[str]) -> None:
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)


def suite(path: Path, name: str, dataset: Path, *, metrics: list[str], kb: list[Path] = (), tickets: list[Path] = (),
          config: Path | None = None) -> Path:
    import yaml

    doc: dict = {"name": name, "dataset": str(dataset), "metrics": metrics,
                 "copilot": {"kb": [str(k) for k in kb], "tickets": [str(t) for t in tickets]}}
    if config:
        doc["copilot"]["config"] = str(config)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("runs/shared"))
    ap.add_argument("--only", choices=["tweetsumm", "banking77", "vi", "zh"], action="append")
    args = ap.parse_args()
    d, out = args.data.resolve(), args.out.resolve()
    work = out / "data"
    work.mkdir(parents=True, exist_ok=True)
    def ev(*argv: str) -> None:
        sh([sys.executable, "-m", "copilot.cli", "eval", *argv])

    runs: dict[str, Path] = {}
    only = set(args.only or ["tweetsumm", "banking77", "vi", "zh"])
    t0 = time.perf_counter()

    if "tweetsumm" in only:
        history = work / "tweetsumm.jsonl"
        ev("import", "tweetsumm", str(d / "tweetsumm/train.jsonl"), "--as", "tickets", "--out", str(work / "ts-train.jsonl"))
        ev("import", "tweetsumm", str(d / "tweetsumm/valid.jsonl"), "--as", "tickets", "--out", str(work / "ts-valid.jsonl"))
        history.write_text((work / "ts-train.jsonl").read_text(encoding="utf-8") + (work / "ts-valid.jsonl").read_text(encoding="utf-8"),
                           encoding="utf-8")
        runs["tweetsumm backtest"] = out / "tweetsumm"
        ev("backtest", "--tickets", str(history), "--holdout", "110", "--out", str(runs["tweetsumm backtest"]))

    if "banking77" in only:
        ev("import", "banking77", str(d / "banking77/train.csv"), "--as", "tickets", "--part", "train",
                 "--out", str(work / "b77-tickets.jsonl"), "--actions-config", str(work / "b77-config.yaml"))
        ev("import", "banking77", str(d / "banking77/train.csv"), "--as", "cases", "--part", "test", "--limit", "500",
                 "--out", str(work / "b77-cases.jsonl"))
        s = suite(work / "banking77.yaml", "banking77", work / "b77-cases.jsonl", tickets=[work / "b77-tickets.jsonl"],
                  config=work / "b77-config.yaml", metrics=["action_top1", "action_top3", "latency_ms"])
        runs["banking77 suite"] = out / "banking77"
        ev("run", str(s), "--out", str(runs["banking77 suite"]))

    if "vi" in only:
        qa = d / "uit_vicov19qa/val.csv"
        ev("import", "csv", str(qa), "--delimiter", "|", "--as", "articles", "--map", "id=id", "--map", "body=Answer_1",
                 "--out", str(work / "vi-articles.jsonl"))
        ev("import", "csv", str(qa), "--delimiter", "|", "--as", "cases", "--map", "id=id", "--map", "text=Question",
                 "--map", "source=@id", "--out", str(work / "vi-cases.jsonl"))
        s = suite(work / "vi.yaml", "uit_vicov19qa", work / "vi-cases.jsonl", kb=[work / "vi-articles.jsonl"],
                  metrics=["recall@5", "mrr", "ndcg@10", "language_match", "latency_ms"])
        runs["uit_vicov19qa suite"] = out / "vi"
        ev("run", str(s), "--out", str(runs["uit_vicov19qa suite"]))

    if "zh" in only:
        pairs = d / "afqmc/train.txt"
        common = ["--no-header", "--part", "test", "--test-share", "0.15"]
        ev("import", "csv", str(pairs), *common, "--as", "articles", "--map", "body=1", "--out", str(work / "zh-articles.jsonl"))
        ev("import", "csv", str(pairs), *common, "--as", "cases", "--where", "2=1", "--map", "text=0", "--map", "source=@id",
                 "--limit", "300", "--out", str(work / "zh-cases.jsonl"))
        s = suite(work / "zh.yaml", "afqmc", work / "zh-cases.jsonl", kb=[work / "zh-articles.jsonl"],
                  metrics=["recall@5", "mrr", "ndcg@10", "latency_ms"])
        runs["afqmc suite"] = out / "zh"
        ev("run", str(s), "--out", str(runs["afqmc suite"]))

    print(f"\nall done in {time.perf_counter() - t0:.0f} s\n")
    for label, run in runs.items():
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
        parts = []
        for name, m in summary["metrics"].items():
            if name in {"latency_ms", "tokens"}:
                if m["p50"] is not None:
                    parts.append(f"{name} p50 {m['p50']:.0f} / p95 {m['p95']:.0f}")
            elif m["mean"] is not None:
                parts.append(f"{name} {m['mean']:.3f}")
        print(f"{label} ({summary['cases']} cases, {summary['seconds_per_case'] * 1000:.0f} ms/case): " + ", ".join(parts))
        print(f"  report: {run / 'report.html'}")


if __name__ == "__main__":
    main()
