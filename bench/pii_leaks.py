"""PII red-team table: per category, how many personal values were tried and how many held (none of
their original text survived redaction); the false-positive rate on benign look-alikes; redaction
throughput; the slowest detector on 100 kB adversarial input.

    python bench/pii_leaks.py [--suite eval/redteam/pii_v1.jsonl] [--data DIR] [--size 100000]

``--data`` (the public datasets folder) adds throughput on real support text (TweetSumm turns,
Banking77 queries) and how many placeholders of each kind that text produced.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot.pii import redact
from copilot.privacy.redteam import ZERO_LEAK_CATEGORIES, adversarial_inputs, load_pii_cases, run_pii_suite

ROOT = Path(__file__).resolve().parent.parent

# Run in a child process so that a quadratic pattern (the old e-mail one) is cut off, not waited for.
_TIME_ONE = """
import sys, time
from copilot.pii import redact
from copilot.privacy.redteam import adversarial_inputs
redact("warm up: call 0912 345 678")  # the phone library loads its metadata on first use
text = adversarial_inputs({size})[{name!r}]
t = time.process_time(); redact(text); print(time.process_time() - t)
"""


def throughput(texts: list[str], repeats: int = 3) -> float:
    """KB/s of ``redact`` over ``texts`` (median of ``repeats`` passes)."""
    size = sum(len(t.encode("utf-8")) for t in texts) / 1000
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for t in texts:
            redact(t)
        runs.append(time.perf_counter() - t0)
    return size / statistics.median(runs)


def real_texts(data: Path) -> dict[str, list[str]]:
    sys.path.insert(0, str(ROOT / "bench"))
    from _common import read_banking77, read_tweetsumm

    out: dict[str, list[str]] = {}
    ts = data / "tweetsumm" / "train.jsonl"
    if ts.exists():
        out["tweetsumm turns"] = [t["text"] for d in read_tweetsumm(ts) for t in d["turns"]]
    b77 = data / "banking77" / "train.csv"
    if b77.exists():
        out["banking77 queries"] = [q for q, _ in read_banking77(b77)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", type=Path, default=ROOT / "eval/redteam/pii_v1.jsonl")
    ap.add_argument("--data", type=Path, help="public datasets folder, for throughput on real text")
    ap.add_argument("--size", type=int, default=100_000, help="adversarial input size in characters")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds before an adversarial run is cut off")
    ap.add_argument("--show-leaks", action="store_true")
    args = ap.parse_args()

    cases = load_pii_cases(args.suite)
    res = run_pii_suite(cases)
    print(f"{'category':<14}{'tried':>7}{'held':>7}{'leak rate':>11}   target")
    for c in res.categories:
        target = "0" if c.category in ZERO_LEAK_CATEGORIES else ""
        print(f"{c.category:<14}{c.tried:>7}{c.held:>7}{c.leak_rate:>10.1%}   {target}")
    print(f"{'overall':<14}{res.tried:>7}{res.held:>7}{res.leak_rate:>10.1%}   <= 2%")
    leaked = {cid for cid, _, _ in res.leaks}
    by_lang = Counter(c.lang for c in cases if c.category != "benign")
    held_lang = Counter(c.lang for c in cases if c.category != "benign" and c.id not in leaked)
    print("by language: " + ", ".join(f"{lang} {held_lang[lang]}/{n} held" for lang, n in sorted(by_lang.items())))
    print(f"benign look-alikes: {res.benign_tried}, changed: {len(res.false_positives)} "
          f"(false-positive rate {res.false_positive_rate:.1%})")
    if args.show_leaks:
        for cid, left, out in res.leaks:
            print(f"  LEAK {cid}: {left} -> {out!r}")
        for cid, out in res.false_positives:
            print(f"  FP   {cid}: {out!r}")

    corpus = [c.text for c in cases]
    print(f"\nthroughput, red-team sentences x20: {throughput(corpus * 20):,.0f} KB/s")
    if args.data:
        for name, texts in real_texts(args.data).items():
            kinds: Counter[str] = Counter()
            for t in texts:
                kinds.update(redact(t).counts)
            print(f"throughput, {name} ({len(texts):,}): {throughput(texts, repeats=1):,.0f} KB/s; "
                  f"placeholders per 1,000 texts: "
                  + ", ".join(f"{k} {v * 1000 / len(texts):.1f}" for k, v in kinds.most_common()))

    print(f"\nadversarial inputs of {args.size:,} characters (CPU seconds for the whole redaction, each in a fresh "
          "process):")
    worst = ("", 0.0)
    for name in adversarial_inputs(10):
        code = _TIME_ONE.format(size=args.size, name=name)
        try:
            out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                 timeout=args.timeout, check=True)
            secs = float(out.stdout.strip().splitlines()[-1])
            shown = f"{secs:.3f}"
        except subprocess.TimeoutExpired:
            secs, shown = args.timeout, f"> {args.timeout:.0f} (cut off)"
        print(f"  {name:<20}{shown}")
        if secs > worst[1]:
            worst = (name, secs)
    print(f"slowest: {worst[0]} {worst[1]:.3f} s")


if __name__ == "__main__":
    main()
