"""Language detection on short support messages: the team's samples (unaccented Vietnamese next
to Italian, Spanish, Indonesian, Tagalog, ...), and on public data: how often English customer
messages are taken for Vietnamese, and how often Vietnamese questions typed without tone marks
are recognised.

    python bench/language_detect.py [--data ../shared/data] [--n 2000]

Without --data only the samples are measured. Speed: median microseconds per call.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import median, read_banking77, read_tweetsumm, read_vicov, sample
from copilot.language import detect_language
from copilot.text import strip_marks


def _rate(texts: list[str], lang: str) -> tuple[float, Counter[str]]:
    got = Counter(detect_language(t) for t in texts)
    return got[lang] / max(1, len(texts)), got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=Path,
                    default=Path(__file__).resolve().parent.parent / "tests/fixtures/languages.yaml")
    ap.add_argument("--data", type=Path, help="folder of the public datasets (tweetsumm/, banking77/, uit_vicov19qa/)")
    ap.add_argument("--n", type=int, default=2000, help="messages per public dataset")
    args = ap.parse_args()

    doc = yaml.safe_load(args.samples.read_text(encoding="utf-8"))
    total = right = 0
    for lang, texts in doc["languages"].items():
        got = [detect_language(t) for t in texts]
        ok = sum(g == lang for g in got)
        total, right = total + len(texts), right + ok
        wrong = Counter(g for g in got if g != lang)
        print(f"samples {lang:3} {ok:3}/{len(texts):<3}" + (f"  wrong: {dict(wrong)}" if wrong else ""))
    print(f"samples all {right}/{total}")
    wrong_vi = [t for t in doc["not_vietnamese"] if detect_language(t) == "vi"]
    print(f"look-alikes taken for vi: {len(wrong_vi)}/{len(doc['not_vietnamese'])} {wrong_vi or ''}")

    all_texts = [t for texts in doc["languages"].values() for t in texts]
    runs = []
    for _ in range(20):
        t0 = time.perf_counter()
        for t in all_texts:
            detect_language(t)
        runs.append((time.perf_counter() - t0) / len(all_texts) * 1e6)
    print(f"us per call (median): {median(runs):.0f}")

    if args.data:
        tweets = [t["text"] for d in read_tweetsumm(args.data / "tweetsumm" / "train.jsonl")
                  for t in d["turns"] if t["speaker"] == "customer"]
        tweets = sample(tweets, args.n)
        rate, got = _rate(tweets, "vi")
        print(f"TweetSumm customer turns ({len(tweets)}, English): taken for vi {rate:.2%}; top {got.most_common(4)}")
        banking = sample([text for text, _ in read_banking77(args.data / "banking77" / "train.csv")], args.n)
        rate, got = _rate(banking, "vi")
        print(f"Banking77 queries ({len(banking)}, English): taken for vi {rate:.2%}; top {got.most_common(4)}")
        questions = sample([q for _, q, _ in read_vicov(args.data / "uit_vicov19qa" / "val.csv")], args.n)
        plain = [strip_marks(q) for q in questions]
        rate, got = _rate(plain, "vi")
        print(f"UIT-ViCoV19QA questions without tone marks ({len(plain)}): vi {rate:.2%}; top {got.most_common(4)}")
        rate, _ = _rate(questions, "vi")
        print(f"UIT-ViCoV19QA questions as written ({len(questions)}): vi {rate:.2%}")


if __name__ == "__main__":
    main()
