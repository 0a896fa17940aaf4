"""Time from a Slack message event to the posted suggestion, over N events (default 100).

    python bench/slack_latency.py [--n 100] [--concurrency 1]

A local stand-in for the Slack Web API receives the app's calls; signed event requests go
through Bolt's dispatch as in production (signature check, ack, listener on the worker pool).
Measured per event: the ack (dispatch returns), the "Drafting…" placeholder, and the final
chat.update carrying the suggestion. The bundled demo brand, the real embedded model, the
embedded drafter, and a SQLite feedback store. Each message is made unique (a counter is appended)
so no query embedding comes from the cache.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bench._common import percentile
from copilot.config import SlackChannel, load_config
from copilot.integrations.slack.app import SlackCopilot
from copilot.service import Copilot
from copilot.settings import Settings
from tests.slack_mock import event_body, mock_slack, signed

SECRET = "bench-secret"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=1, help="events sent at once")
    args = ap.parse_args()
    demo = Path(str(resources.files("copilot").joinpath("demo")))
    data = Path(tempfile.mkdtemp())
    cp = Copilot(Settings(data_dir=data), config=load_config(demo / "config.yaml"))
    cp.ingest([demo / "kb"], [demo / "tickets.jsonl"], brand="acme", progress=False)
    texts = [json.loads(line)["messages"][0]["body"] for line in
             (demo / "tickets.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    with mock_slack() as mock:
        slack = SlackCopilot(cp, token="xoxb-bench",
                             signing_secret=SECRET, client=WebClient(token="xoxb-bench", base_url=mock.base_url),
                             channels={"C1": SlackChannel(brand="acme")})
        cp.suggest(texts[0], brand="acme")  # warm: model loaded, BM25 built, as in a running service

        def one(i: int) -> tuple[float, float, float]:
            ts = f"1700000000.{i:06d}"
            body = event_body({"type": "message", "channel": "C1", "user": "UCUST", "text": f"{texts[i % len(texts)]} ({i})",
                               "ts": ts}, f"EvBench{i}")
            t0 = time.monotonic()
            resp = slack.app.dispatch(BoltRequest(body=body, headers=signed(SECRET, body)))
            acked = time.monotonic()
            assert resp.status == 200, resp.body
            placeholder = mock.wait_for("chat.postMessage", where=lambda c: c.args.get("thread_ts") == ts,
                                        timeout=60)[0]
            done = mock.wait_for("chat.update", timeout=60, where=lambda c: c.args.get("ts") == placeholder.result.get(
                "ts") and "copilot_send" in json.dumps(c.args.get("blocks")))[0]
            return 1000 * (acked - t0), 1000 * (placeholder.at - t0), 1000 * (done.at - t0)

        with ThreadPoolExecutor(args.concurrency) as pool:
            rows = list(pool.map(one, range(args.n)))
    for name, col in (("ack (HTTP response to Slack)", 0), ("'Drafting…' placeholder posted", 1),
                      ("suggestion posted (chat.update)", 2)):
        vals = [r[col] for r in rows]
        print(f"{name:<34} p50 {percentile(vals, 50):7.1f} ms   p95 {percentile(vals, 95):7.1f} ms   "
              f"max {max(vals):7.1f} ms   ({args.n} events, concurrency {args.concurrency})")


if __name__ == "__main__":
    main()
