"""`suggest` latency with a warm process at 1k, 10k and 100k chunks, and peak memory.

    python bench/suggest_latency.py --data ../shared/data            # 1k, 10k, 100k, one subprocess each
    python bench/suggest_latency.py --data ../shared/data --size 100000 --queries 200

Chunk texts are real (TweetSumm, Banking77, AFQMC, UIT-ViCoV19QA, cycled to the size asked). Embedding
100k chunks with the embedded model takes ~25 min on 2 cores, so only the first 2,000 chunks get real
vectors; the rest get a real vector plus noise (same distribution shape for the HNSW graph). Queries
are real, distinct customer messages embedded by the real model at query time, so each measured
`suggest` pays for query embedding, dense + BM25 search, fusion, drafting and action ranking.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    peak_rss_mb,
    percentile,
    read_afqmc,
    read_banking77,
    read_tweetsumm,
    read_vicov,
)

REAL_VECTORS = 2000


def texts_pool(data: Path) -> tuple[list[str], list[str]]:
    """(corpus texts, query texts), disjoint."""
    ts = read_tweetsumm(data / "tweetsumm" / "train.jsonl")
    tv = read_tweetsumm(data / "tweetsumm" / "valid.jsonl")
    corpus = [" ".join(t["text"] for t in d["turns"] if t["speaker"] == "customer")[:600] for d in ts]
    bank = read_banking77(data / "banking77" / "train.csv")
    corpus += [t for t, _ in bank[:-300]]
    afq = read_afqmc(data / "afqmc" / "train.txt")
    corpus += [q for _, q, _ in afq] + [q for q, _, _ in afq[:-300]]
    vi = read_vicov(data / "uit_vicov19qa" / "train.csv")
    corpus += [a[:800] for _, _, a in vi]
    queries = [next(t["text"] for t in d["turns"] if t["speaker"] == "customer") for d in tv]
    queries += [t for t, _ in bank[-300:]] + [q for q, _, _ in afq[-300:]]
    queries += [q for _, q, _ in read_vicov(data / "uit_vicov19qa" / "val.csv")[:300]]
    return corpus, queries


def run_size(data: Path, size: int, n_queries: int, cache: bool, real_vectors: int = REAL_VECTORS) -> None:
    from copilot.config import CopilotConfig
    from copilot.models import Chunk, Message, Ticket
    from copilot.retrieval.ingest import publish
    from copilot.retrieval.lexical import lexical_text
    from copilot.service import Copilot
    from copilot.settings import Settings
    from copilot.text import BM25_ANALYZER

    rng = random.Random(7)
    corpus, queries = texts_pool(data)
    tmp = Path(tempfile.mkdtemp(prefix="copilot-latency-"))
    cp = Copilot(Settings(data_dir=tmp), config=CopilotConfig())
    if cache:
        from bench.embed_cache import CachedEmbedder

        cp = Copilot(Settings(data_dir=tmp), config=CopilotConfig(), embedder=CachedEmbedder(cp.embedder, queries=False))
    t0 = time.perf_counter()
    base = cp.embedder.embed_documents([corpus[i % len(corpus)] for i in range(min(size, real_vectors))])
    nprng = np.random.default_rng(7)
    batch = 5000
    for start in range(0, size, batch):
        chunks, vecs, lex = [], [], []
        for i in range(start, min(size, start + batch)):
            text = corpus[(i * 7919) % len(corpus)] + (f" #{i // len(corpus)}" if i >= len(corpus) else "")
            is_ticket = i % 3 != 0
            sid = f"{'ticket' if is_ticket else 'article'}:c{i}"
            chunks.append(Chunk(id=f"{sid}#0", source_id=sid, kind="ticket" if is_ticket else "article", text=text,
                                title=text[:60], brand="bench", replies=[text[:300]] if is_ticket else [],
                                actions=["refund"] if i % 5 == 0 else ["track_order"], source_hash=str(i)))
            if i < len(base):
                vecs.append(base[i])
            else:
                v = base[rng.randrange(len(base))] + nprng.normal(0, 0.03, base.shape[1]).astype(np.float32)
                vecs.append(v / np.linalg.norm(v))
            lex.append(" ".join(BM25_ANALYZER(lexical_text(chunks[-1]))))
        cp.store.upsert(chunks, np.stack(vecs), lex, analyzer=BM25_ANALYZER.version)
    publish(cp.store, cp.embedder, "bench")  # as ingest does: analyzer, calibration and version in one write
    build = time.perf_counter() - t0

    t0 = time.perf_counter()
    cp.suggest(Ticket(brand="bench", messages=[Message(author="customer", body="warm-up question about a refund")]))
    warm = time.perf_counter() - t0
    rss_warm = peak_rss_mb()
    picked = rng.sample(queries, min(n_queries, len(queries)))
    inner, outer = [], []
    for q in picked:
        t0 = time.perf_counter()
        s = cp.suggest(Ticket(brand="bench", messages=[Message(author="customer", body=q)]))
        outer.append(1000 * (time.perf_counter() - t0))
        inner.append(s.latency_ms)
    # A restarted process on the same data dir (BM25 comes from the local cache, not Chroma).
    again = Copilot(Settings(data_dir=tmp), config=CopilotConfig())
    t0 = time.perf_counter()
    again.suggest(Ticket(brand="bench", messages=[Message(author="customer", body="restart question about a lamp")]))
    restart = time.perf_counter() - t0
    print(f"{cp.store.count():>7} chunks | suggest p50 {percentile(outer, 50):6.1f} ms  p95 {percentile(outer, 95):6.1f} ms"
          f"  p99 {percentile(outer, 99):6.1f} ms  (n={len(outer)}) | first call {warm:5.1f}s, after restart "
          f"{restart:4.1f}s | "
          f"peak RSS {peak_rss_mb():6.0f} MB (after warm-up {rss_warm:.0f}) | build {build:.0f}s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--size", type=int, help="one size, in this process")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--real-vectors", type=int, default=REAL_VECTORS,
                    help=f"chunks embedded by the model (the rest are noisy copies; default {REAL_VECTORS})")
    ap.add_argument("--cache", action="store_true",
                    help="take corpus vectors from the on-disk cache (bench/embed_cache.py); queries are always embedded live")
    args = ap.parse_args()
    if args.size:
        run_size(args.data, args.size, args.queries, args.cache, args.real_vectors)
        return
    for size in [int(s) for s in args.sizes.split(",")]:
        # One process per size: memory numbers are not polluted by the previous size.
        subprocess.run([sys.executable, __file__, "--data", str(args.data), "--size", str(size),
                        "--queries", str(args.queries), "--real-vectors", str(args.real_vectors),
                        *(["--cache"] if args.cache else [])], check=True)


if __name__ == "__main__":
    main()
