"""Rewrites through the facade and the CLI: offline by default, LLM when configured."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from copilot.cli import main
from copilot.drafting.llm import LLMDrafter
from copilot.service import Copilot

Q = "Where is my refund? I returned the chair two weeks ago."


def test_shorter_keeps_the_frame_and_cuts_the_body(indexed: Copilot) -> None:
    s = indexed.suggest(Q)
    body = ("We issue the refund within 2 business days of the return reaching us. Your bank then needs 5 to 7 "
            "business days. Refunds go back to the original payment method. You will get an e-mail when it is done.")
    long = s.model_copy(update={"reply": f"Hello from Acme,\n\n{body}\n\nAcme will never ask for your password."
                                         "\n\nCheers,\nAcme Care"})
    short = indexed.rewrite(long, "shorter")
    assert short.reply.startswith("Hello from Acme,\n\nWe issue the refund within 2 business days")
    assert short.reply.rstrip().endswith("Acme will never ask for your password.\n\nCheers,\nAcme Care")
    assert len(short.reply) < len(long.reply) and short.citations == s.citations and short.id != s.id
    assert indexed.rewrite(s, "shorter").reply == s.reply  # one sentence cannot get shorter offline


def test_friendlier_and_formal(indexed: Copilot) -> None:
    s = indexed.suggest(Q)
    warm = indexed.rewrite(s, "make it friendlier")
    assert "Sorry to hear about this." in warm.reply
    formal = indexed.rewrite(warm, "more formal please")
    assert "Sorry to hear about this." in formal.reply and "I'm" not in formal.reply and "!" not in formal.reply


def test_translation_and_free_text_are_unsupported_offline(indexed: Copilot) -> None:
    s = indexed.suggest(Q)
    out = indexed.rewrite(s, "translate", language="vi")
    assert "rewrite_unsupported" in out.flags and out.reply == s.reply and out.language == "en"
    with pytest.raises(Exception, match="empty"):
        indexed.rewrite(s, "  ")


def test_llm_rewrite_translates_and_is_checked(indexed: Copilot) -> None:
    def with_model(*answers: str) -> Copilot:
        model = FakeMessagesListChatModel(responses=[AIMessage(content=a) for a in answers])
        return Copilot(indexed.settings, config=indexed.config, embedder=indexed.embedder,
                       drafter=LLMDrafter(model, name="fake"))

    s = indexed.suggest(Q)
    cp = with_model(json.dumps({"reply": "Chúng tôi hoàn tiền trong vòng 2 ngày làm việc, ngân hàng cần 5 đến 7 ngày."}))
    vi = cp.rewrite(s, "translate", language="vi")
    assert vi.language == "vi" and vi.reply.startswith("Chào bạn,") and "hoàn tiền" in vi.reply
    cp = with_model(json.dumps({"reply": "Refunds take 2 business days and you get a $40 bonus."}))
    out = cp.rewrite(s, "shorter")
    assert "$40" not in out.reply and "llm_fallback" in out.flags  # invented amount -> offline rewrite


def test_cli_rewrite_reads_a_suggestion_from_stdin(monkeypatch: pytest.MonkeyPatch, corpus: dict[str, Path],
                                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COPILOT_EMBEDDER", "hash")
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("COPILOT_CONFIG", str(corpus["config"]))
    assert main(["ingest", "--kb", str(corpus["kb"]), "--tickets", str(corpus["tickets"])]) == 0
    capsys.readouterr()
    assert main(["suggest", "--json", "--message", Q]) == 0
    suggestion: dict[str, Any] = json.loads(capsys.readouterr().out)
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(suggestion)))
    assert main(["rewrite", "shorter", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["reply"]) <= len(suggestion["reply"])
    monkeypatch.setattr("sys.stdin", io.StringIO("{}"))
    assert main(["rewrite", "shorter"]) == 2
    assert "invalid suggestion JSON" in capsys.readouterr().err


def test_formal_spells_out_contractions_and_drops_exclamations() -> None:
    from copilot.brand import BrandProfile
    from copilot.drafting.rewrite import OfflineRewriter

    out = OfflineRewriter().rewrite("I'm so sorry! We'll fix it.", "more formal", empathy="", profile=BrandProfile())
    assert out is not None and "I am" in out and "We will" in out and "!" not in out
