"""Latency the LLM path adds around the model call: prompt building, parsing and every check.

    python bench/check_latency.py [--n 300]

The chat model is an instant fake that returns a valid, cited answer, so everything measured is
our own work (prompt rendering, JSON parsing, citation, language, brand-voice, grounding and
injection checks) on the bundled demo brand with the real embedded model, in one warm drafter.

Two kinds of answer: the cited source's own words (grounding is settled by word overlap), and the
same with an invented promise added (grounding has to embed the claim and the source sentences;
source sentence vectors are cached, so the first pass over the tickets is the cold one).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from bench._common import percentile
from copilot.config import load_config
from copilot.drafting.base import DraftRequest
from copilot.drafting.embedded import EmbeddedDrafter
from copilot.drafting.llm import LLMDrafter
from copilot.guardrails import screen
from copilot.language import detect_language
from copilot.models import Message, Ticket
from copilot.service import Copilot
from copilot.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    demo = Path(str(resources.files("copilot").joinpath("demo")))
    cp = Copilot(Settings(data_dir=Path(tempfile.mkdtemp())), config=load_config(demo / "config.yaml"))
    cp.ingest([demo / "kb"], [demo / "tickets.jsonl"], brand="acme", progress=False)
    tickets = [json.loads(line) for line in (demo / "tickets.jsonl").read_text(encoding="utf-8").splitlines()]
    requests = []
    for t in tickets:
        text = t["messages"][0]["body"]
        hits = cp.search(text, brand="acme")
        requests.append((DraftRequest(ticket=Ticket(messages=[Message(author="customer", body=text)]), query=text,
                                      language=detect_language(text), brand="acme", profile=cp.config.brand("acme"),
                                      hits=hits, screening=screen(text)), hits))
    # No digits: a number no source has is cut by the cheaper number check before grounding runs.
    invented = {"en": " We will also send you a free gift card as a thank-you.",
                "vi": " Chúng tôi sẽ tặng bạn một thẻ quà tặng miễn phí để cảm ơn.",
                "zh": "我们还会免费送您一张礼品卡作为感谢。"}
    for label, extra in (("cited words only", False), ("with an invented claim", True)):
        answers = []
        for req, hits in requests:
            reply = hits[0].chunk.replies[0] if hits[0].chunk.replies else hits[0].chunk.text
            if extra:
                reply += invented.get(req.language, invented["en"])
            answers.append(AIMessage(content=json.dumps(
                {"reply": reply, "cited_source_ids": [hits[0].source_id], "confidence": 0.8}, ensure_ascii=False)))
        fake = FakeMessagesListChatModel(responses=answers)  # answers cycle in the order of the requests
        d = LLMDrafter(fake, fallback=EmbeddedDrafter(cp.embedder), name="fake", method="json_object")
        times, flagged = [], 0
        for i in range(args.n):
            t0 = time.perf_counter()
            out = d.draft(requests[i % len(requests)][0])
            times.append(1000 * (time.perf_counter() - t0))
            flagged += "unsupported_claim" in out.flags
        warm = times[len(requests):] or times
        print(f"LLM path overhead, {label} ({args.n} drafts, en/vi/zh demo tickets): "
              f"p50 {percentile(times, 50):.2f} ms  p95 {percentile(times, 95):.2f} ms  "
              f"(warm, after the first {len(requests)}: p50 {percentile(warm, 50):.2f} ms  "
              f"p95 {percentile(warm, 95):.2f} ms); flagged unsupported_claim: {flagged}/{args.n}")

if __name__ == "__main__":
    main()
