"""Load on the HTTP service: N concurrent clients for S seconds on loopback.

    python bench/http_load.py [--clients 50] [--seconds 60]

Starts `copilot serve` in its own process on the bundled demo brand (real embedded model,
embedded drafter, SQLite feedback store), then each client loops: POST /v1/suggestions with a
demo ticket made unique, then POST its feedback (accepted, edited or rejected). Prints requests/s,
p50/p95/p99 of POST /v1/suggestions, the count of 5xx, and checks that every feedback event the
service acknowledged is in the store afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench._common import percentile
from copilot.feedback import FeedbackStore
from copilot.integrations.http.auth import hash_token
from tests.servers import free_port

TOKEN = "bench-token"


def start_service(data: Path, port: int) -> subprocess.Popen[bytes]:
    demo = Path(str(resources.files("copilot").joinpath("demo")))
    config = data / "config.yaml"
    config.write_text((demo / "config.yaml").read_text(encoding="utf-8") + "\napi:\n  tokens:\n"
                      f"    - {{name: bench, sha256: {hash_token(TOKEN)}, brands: ['*']}}\n", encoding="utf-8")
    env = {**os.environ, "COPILOT_DATA_DIR": str(data), "COPILOT_CONFIG": str(config)}
    subprocess.run([sys.executable, "-m", "copilot.cli", "ingest", "--kb", str(demo / "kb"), "--tickets",
                    str(demo / "tickets.jsonl"), "--brand", "acme"], env=env, check=True, stdout=subprocess.DEVNULL)
    proc = subprocess.Popen([sys.executable, "-m", "copilot.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the service did not start") from None
            time.sleep(0.2)


async def client(base: str, texts: list[str], until: float, out: dict[str, list], rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        while time.monotonic() < until:
            body = {"brand": "acme", "messages": [{"author": "customer",
                                                   "body": f"{rng.choice(texts)} (ref {rng.randrange(10**9)})"}]}
            t0 = time.perf_counter()
            r = await http.post("/v1/suggestions", json=body)
            out["latency"].append(1000 * (time.perf_counter() - t0))
            out["status"].append(r.status_code)
            if r.status_code != 200:
                continue
            s = r.json()
            outcome = rng.choice(["accepted", "edited", "rejected"])
            fb = {"outcome": outcome, "agent": f"agent{rng.randrange(20)}"}
            if outcome == "edited":
                fb["final_text"] = s["reply"] + " Thanks for your patience!"
            if outcome == "rejected":
                fb["reason"] = "wrong_tone"
            f = await http.post(f"/v1/suggestions/{s['id']}/feedback", json=fb)
            out["status"].append(f.status_code)
            if f.status_code == 200:
                out["feedback_ok"].append(s["id"])


async def run(base: str, texts: list[str], clients: int, seconds: float) -> dict[str, list]:
    out: dict[str, list] = {"latency": [], "status": [], "feedback_ok": []}
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(base, texts, until, out, random.Random(i)) for i in range(clients)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    demo = Path(str(resources.files("copilot").joinpath("demo")))
    texts = [json.loads(line)["messages"][0]["body"] for line in
             (demo / "tickets.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    data = Path(tempfile.mkdtemp(prefix="copilot-load-"))
    port = free_port()
    proc = start_service(data, port)
    try:
        t0 = time.monotonic()
        out = asyncio.run(run(f"http://127.0.0.1:{port}", texts, args.clients, args.seconds))
        wall = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lat, status = out["latency"], out["status"]
    stored = {r.suggestion_id for r in FeedbackStore(f"sqlite:///{data / 'feedback.db'}").records()}
    missing = [sid for sid in out["feedback_ok"] if sid not in stored]
    print(f"{args.clients} clients for {args.seconds:.0f} s on loopback: {len(status) / wall:.1f} requests/s "
          f"({len(lat) / wall:.1f} suggestions/s)")
    print(f"POST /v1/suggestions: p50 {percentile(lat, 50):.0f} ms  p95 {percentile(lat, 95):.0f} ms  "
          f"p99 {percentile(lat, 99):.0f} ms  ({len(lat)} requests)")
    print(f"5xx responses: {sum(1 for s in status if s >= 500)}   other non-2xx: "
          f"{sum(1 for s in status if 300 <= s < 500)}")
    print(f"feedback acknowledged: {len(out['feedback_ok'])}, in the store afterwards: "
          f"{len(out['feedback_ok']) - len(missing)} (missing: {len(missing)})")


if __name__ == "__main__":
    main()
