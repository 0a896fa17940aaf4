"""Ingest throughput next to the embedding model's raw throughput on the same texts, in one run,
and the cost of re-ingesting an unchanged corpus.

    python bench/ingest_speed.py --data ../shared/data [--banking 1500] [--repeats 3]

The corpus is real: TweetSumm train conversations and Banking77 queries as resolved tickets,
UIT-ViCoV19QA val answers as KB articles (English and Vietnamese), written to JSONL files and
ingested through the same path as `copilot ingest`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import median, read_banking77, read_tweetsumm, read_vicov
from copilot.config import CopilotConfig
from copilot.retrieval.chunking import article_chunks, ticket_chunks
from copilot.retrieval.ingest import EMBED_BATCH, _embed_text
from copilot.retrieval.sources import load_kb, load_tickets
from copilot.service import Copilot
from copilot.settings import Settings


def write_corpus(data: Path, out: Path, n_banking: int) -> tuple[Path, Path]:
    tickets = out / "tickets.jsonl"
    with tickets.open("w", encoding="utf-8") as fh:
        for d in read_tweetsumm(data / "tweetsumm" / "train.jsonl"):
            msgs = [{"author": "agent" if t["speaker"] == "agent" else "customer", "body": t["text"]} for t in d["turns"]]
            fh.write(json.dumps({"id": d["dialog_id"], "brand": "bench", "messages": msgs}) + "\n")
        for i, (text, cat) in enumerate(read_banking77(data / "banking77" / "train.csv")[:n_banking]):
            fh.write(json.dumps({"id": f"b{i}", "brand": "bench", "actions": [cat],
                                 "messages": [{"author": "customer", "body": text}]}) + "\n")
    kb = out / "kb.jsonl"
    with kb.open("w", encoding="utf-8") as fh:
        for rid, _, ans in read_vicov(data / "uit_vicov19qa" / "val.csv"):
            fh.write(json.dumps({"id": rid, "title": "", "body": ans, "brand": "bench"}, ensure_ascii=False) + "\n")
    return kb, tickets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--banking", type=int, default=1500, help="Banking77 queries to include")
    ap.add_argument("--repeats", type=int, default=3, help="re-ingest repeats (median reported)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="copilot-ingest-bench-"))
    kb, tickets = write_corpus(args.data, work, args.banking)
    cp = Copilot(Settings(data_dir=work / "data"), config=CopilotConfig())

    # The exact texts the pipeline will embed.
    loaded_kb, loaded_t = load_kb(kb), load_tickets(tickets)
    chunks = [c for a in loaded_kb.articles for c in article_chunks(a, "bench")]
    chunks += [c for t in loaded_t.tickets for c in ticket_chunks(t, "bench")]
    texts = [_embed_text(c) for c in chunks]
    cp.embedder.embed_documents(texts[:EMBED_BATCH])  # warm-up: load the model once

    t0 = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        cp.embedder.embed_documents(texts[i : i + EMBED_BATCH])
    raw = time.perf_counter() - t0

    t0 = time.perf_counter()
    first = cp.ingest([kb], [tickets], progress=False)
    full = time.perf_counter() - t0
    assert first.ok and first.chunks_embedded == len(chunks), (first.errors[:3], first.chunks_embedded, len(chunks))

    again = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        s = cp.ingest([kb], [tickets], progress=False)
        again.append(time.perf_counter() - t0)
        assert s.chunks_embedded == 0 and s.unchanged == first.added
    n = len(chunks)
    print(f"corpus: {first.added} sources -> {n} chunks (tweetsumm train + {args.banking} banking77 tickets, "
          f"{len(loaded_kb.articles)} vi articles); embedder {cp.embedder.name}")
    print(f"embedding model alone : {n / raw:7.1f} chunks/s  ({raw:.1f}s)")
    print(f"full ingest pipeline  : {n / full:7.1f} chunks/s  ({full:.1f}s)  -> pipeline adds {100 * (full / raw - 1):.1f}%")
    rei = median(again)
    print(f"re-ingest, unchanged  : {rei:.2f}s median of {args.repeats} = {100 * rei / full:.1f}% of the first ingest")


if __name__ == "__main__":
    main()
