"""Sentence splitting: accuracy on the team's en/vi/zh samples and speed per call, for
``copilot.text.split_sentences`` next to maintained splitters, in one run.

    python bench/sentence_split.py [--samples tests/fixtures/sentences.yaml] [--repeats 300] [--errors NAME]

Accuracy: share of samples whose sentences come out exactly as written in the samples file.
Speed: median microseconds per call over all samples (a call is one paragraph or one draft
sentence: the splitter runs on every one of them in grounding, composition and trimming),
and per page (the samples of one language joined: 0.6-2.6 KB). Alternatives are measured when
installed (``pip install pysbd sentencex``); pysbd has no Vietnamese rules, so it gets "en".
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import installed, median
from copilot.text import split_sentences

Splitter = Callable[[str, str], list[str]]
_OLD = re.compile(r"(?<=[.!?])\s+(?=[^\s])|(?<=[。！？])")


def _before(text: str, lang: str) -> list[str]:
    # The splitter before this change, kept here as the baseline.
    return [s.strip() for s in _OLD.split(text) if s and s.strip()]


def _pysbd() -> Splitter | None:
    try:
        import pysbd
    except ImportError:
        return None
    segmenters = {lang: pysbd.Segmenter(language=lang, clean=False) for lang in ("en", "zh")}
    return lambda text, lang: [s.strip() for s in segmenters.get(lang, segmenters["en"]).segment(text) if s.strip()]


def _sentencex() -> Splitter | None:
    try:
        import sentencex
    except ImportError:
        return None
    return lambda text, lang: [s.strip() for s in sentencex.segment(lang, text) if s.strip()]


def load_samples(path: Path) -> list[tuple[str, str, list[str]]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(lang, row[0], list(row[1:])) for lang, rows in doc.items() for row in rows]


def _time_us(split: Splitter, items: list[tuple[str, str]], repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for lang, text in items:
            split(text, lang)
        runs.append((time.perf_counter() - t0) / len(items) * 1e6)
    return median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=Path,
                    default=Path(__file__).resolve().parent.parent / "tests/fixtures/sentences.yaml")
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--errors", help="print the samples this splitter gets wrong")
    args = ap.parse_args()

    samples = load_samples(args.samples)
    candidates: dict[str, Splitter] = {"copilot": lambda text, lang: split_sentences(text), "before": _before,
                                       **installed({"pysbd": _pysbd, "sentencex": _sentencex})}
    langs = sorted({lang for lang, _, _ in samples})
    print(f"{'splitter':12}" + "".join(f"{lang + ' exact':>12}" for lang in langs)
          + f"{'all':>10}{'us/call':>10}{'us/page':>10}")
    long = [(lang, " ".join(text for lg, text, _ in samples if lg == lang)) for lang in langs]
    for name, split in candidates.items():
        row = f"{name:12}"
        right = 0
        for lang in langs:
            mine = [(t, gold) for lg, t, gold in samples if lg == lang]
            ok = sum(split(t, lang) == gold for t, gold in mine)
            right += ok
            row += f"{f'{ok}/{len(mine)}':>12}"
        calls = [(lang, text) for lang, text, _ in samples]
        row += f"{f'{right}/{len(samples)}':>10}{_time_us(split, calls, args.repeats):>10.1f}"
        row += f"{_time_us(split, long, max(3, args.repeats // 10)):>10.0f}"
        print(row)
        if args.errors == name:
            for lang, text, gold in samples:
                got = split(text, lang)
                if got != gold:
                    print(f"   [{lang}] {text!r}\n      want {gold}\n      got  {got}")


if __name__ == "__main__":
    main()
