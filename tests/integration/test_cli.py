"""The `copilot` command line, run in-process (fake embeddings via COPILOT_EMBEDDER=hash)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from copilot.cli import main
from tests.conftest import TICKETS


def ingest(corpus: dict[str, Path]) -> int:
    return main(["ingest", "--kb", str(corpus["kb"]), "--tickets", str(corpus["tickets"])])


def test_ingest_prints_a_summary_and_is_incremental(cli_env: Path, corpus: dict[str, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert ingest(corpus) == 0
    out = capsys.readouterr().out
    assert "added 11" in out and "skipped 1" in out and "is not solved/closed" in out
    assert main(["ingest", "--kb", str(corpus["kb"]), "--tickets", str(corpus["tickets"]), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["added"], summary["unchanged"], summary["chunks_embedded"]) == (0, 11, 0)


def test_ingest_bad_input_exits_non_zero_naming_file_and_line_and_keeps_good(
        cli_env: Path, corpus: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    bad = cli_env / "bad.jsonl"
    bad.write_text(json.dumps(TICKETS[1]) + "\nnot json\n", encoding="utf-8")
    assert main(["ingest", "--tickets", str(bad)]) == 1
    captured = capsys.readouterr()
    assert f"{bad}:2" in captured.err and "added 1" in captured.out


def test_ingest_missing_file_and_nothing_to_do(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "--kb", str(cli_env / "missing")]) == 2
    assert "knowledge base path not found" in capsys.readouterr().err
    assert main(["ingest"]) == 2
    assert "nothing to ingest" in capsys.readouterr().err


def test_search_text_and_json(cli_env: Path, corpus: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    ingest(corpus)
    capsys.readouterr()
    assert main(["search", "refund bank business days", "--k", "3"]) == 0
    text = capsys.readouterr().out
    # A relevance a person can read; the raw fusion scores only in --json.
    assert re.search(r"relevance \d{1,3}% \(matched on (meaning and words|meaning|words)\)", text)
    assert "score 0." not in text
    assert main(["search", "refund bank business days", "--k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3 and set(hits[0]) >= {"source_id", "kind", "score", "title", "snippet", "dense", "lexical"}


def test_a_misspelled_brand_is_refused_naming_the_known_ones(cli_env: Path, corpus: dict[str, Path],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    ingest(corpus)
    capsys.readouterr()
    assert main(["suggest", "--brand", "acmee", "--message", "Where is my refund?"]) == 2
    err = capsys.readouterr().err
    assert "unknown_brand" in err and "acmee" in err and "acme" in err and "globex" in err
    assert main(["search", "refund", "--brand", "nosuchbrand"]) == 2
    assert main(["suggest", "--brand", "globex", "--message", "Where is my refund?"]) == 0  # indexed, no profile


def test_search_batch_one_line_per_query_and_errors_in_place(cli_env: Path, corpus: dict[str, Path],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    ingest(corpus)
    capsys.readouterr()
    batch = cli_env / "q.jsonl"
    batch.write_text('{"query": "refund"}\n{"query": 3}\n{"query": "refund", "brand": "globex"}\n', encoding="utf-8")
    assert main(["search", "--batch", str(batch), "--k", "2"]) == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and "error" in lines[1]
    assert all("globex" in h["source_id"] or h["source_id"] == "ticket:G1" for h in lines[2])


def test_suggest_json_contract(cli_env: Path, corpus: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    ingest(corpus)
    capsys.readouterr()
    assert main(["suggest", "--json", "--message", "Where is my refund? I returned the chair two weeks ago."]) == 0
    s = json.loads(capsys.readouterr().out)
    assert set(s) >= {"id", "reply", "language", "citations", "next_actions", "confidence", "flags", "drafter",
                      "prompt_version", "latency_ms"}
    assert s["citations"][0]["source_id"].startswith(("ticket:", "article:"))
    assert set(s["next_actions"][0]) >= {"id", "title", "confidence"}


def test_suggest_reads_stdin_and_ticket_file(cli_env: Path, corpus: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    ingest(corpus)
    capsys.readouterr()
    ticket = {"id": "N1", "messages": [{"author": "customer", "body": "Tôi chưa nhận được hoàn tiền"}]}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(ticket)))
    assert main(["suggest", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["language"] == "vi"
    path = cli_env / "t.json"
    path.write_text(json.dumps(ticket), encoding="utf-8")
    assert main(["suggest", "--ticket", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Suggested reply (vi" in out and "Next actions" in out


def test_suggest_bad_ticket_is_a_clear_error(cli_env: Path, corpus: dict[str, Path],
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"messages": [{"author": "alien", "body": "x"}]}'))
    assert main(["suggest"]) == 2
    err = capsys.readouterr().err
    assert "invalid ticket JSON" in err and "messages.0.author" in err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["suggest"]) == 2
    assert "no ticket given" in capsys.readouterr().err


def test_suggest_batch_keeps_order_and_reports_bad_lines(cli_env: Path, corpus: dict[str, Path],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    ingest(corpus)
    capsys.readouterr()
    batch = cli_env / "b.jsonl"
    batch.write_text(
        json.dumps({"id": "1", "messages": [{"author": "customer", "body": "where is my refund"}]}) + "\n"
        + "{oops\n"
        + json.dumps({"id": "3", "messages": [{"author": "customer", "body": "我的退款什么时候到账"}]}) + "\n",
        encoding="utf-8")
    assert main(["suggest", "--batch", str(batch)]) == 1
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r.get("ticket_id") for r in rows] == ["1", None, "3"]
    assert rows[1]["error"]["where"] == f"{batch}:2"
    assert rows[2]["language"] == "zh"


def test_bad_config_is_reported_with_location(cli_env: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    cfg = cli_env / "bad.yaml"
    cfg.write_text("brands:\n  acme:\n    max_wordz: 3\n", encoding="utf-8")
    assert main(["suggest", "--config", str(cfg), "--message", "hi"]) == 2
    err = capsys.readouterr().err
    assert "invalid config" in err and "max_wordz" in err and str(cfg) in err


def test_empty_index_still_answers_and_says_why(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suggest", "--json", "--message", "where is my refund"]) == 0
    captured = capsys.readouterr()
    assert "no_evidence" in json.loads(captured.out)["flags"]
    assert "is empty; run `copilot ingest` first" in captured.err


def test_bad_setting_names_the_variable(cli_env: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COPILOT_TOP_K", "0")
    assert main(["search", "refund"]) == 2
    assert "COPILOT_TOP_K" in capsys.readouterr().err


def test_suggest_stream_json_is_one_event_per_line(cli_env: Path, corpus: dict[str, Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ingest(corpus)
    capsys.readouterr()
    assert main(["suggest", "--stream", "--json", "--message", "Where is my refund?"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[-1]["type"] == "suggestion" and lines[-1]["suggestion"]["reply"] == lines[-1]["text"]
    assert all(x["type"] == "partial" for x in lines[:-1])
    assert main(["suggest", "--stream", "--message", "Where is my refund?"]) == 0
    assert "Suggested reply" in capsys.readouterr().out


def test_token_create_prints_a_token_and_a_config_entry_that_loads(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from copilot.config import CopilotConfig
    from copilot.integrations.http.auth import Authenticator

    assert main(["token", "create", "--name", "sidebar", "--brand", "acme", "--expires", "2099-01-01"]) == 0
    out = capsys.readouterr().out
    token = out.split("client): ")[1].split()[0]
    config = CopilotConfig.model_validate(yaml.safe_load(out.split("config file:")[1]))
    principal = Authenticator(config.api.tokens).principal(f"Bearer {token}")
    assert principal.brands == ["acme"] and str(principal.expires) == "2099-01-01"


def test_sidebar_package_builds_installable_zips(tmp_path: Path) -> None:
    import zipfile

    assert main(["sidebar", "package", "zendesk", "--out", str(tmp_path / "zd.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "zd.zip") as z:
        names = set(z.namelist())
        assert {"manifest.json", "assets/iframe.html", "assets/sidebar.js", "translations/en.json"} <= names
        page = z.read("assets/iframe.html").decode()
        assert "zaf_sdk" in page and 'src="sidebar.js"' in page and json.loads(z.read("manifest.json"))["parameters"]
    assert main(["sidebar", "package", "freshdesk", "--out", str(tmp_path / "fd.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "fd.zip") as z:
        assert "{{{appclient}}}" in z.read("app/index.html").decode()
        assert json.loads(z.read("config/iparams.json"))["api_token"]["secure"] is True


def test_token_create_refuses_a_bad_expiry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "--name", "x", "--brand", "acme", "--expires", "tomorrow"]) == 2
    captured = capsys.readouterr()
    assert "is not a date" in captured.err and "token" not in captured.out  # no token printed


def test_ingest_lists_learned_actions_with_a_hint(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tickets = cli_env / "macros.jsonl"
    rows = [{"id": f"M{i}", "actions": ["macro_card_arrival"] if i < 3 else ["refund", "vip-goodwill"],
             "messages": [{"author": "customer", "body": f"My new card has not arrived yet {i}"}]} for i in range(5)]
    tickets.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["ingest", "--tickets", str(tickets)]) == 0
    out = capsys.readouterr().out
    assert "learned actions (in resolved tickets, not in the action catalog): 2" in out
    assert 'macro_card_arrival "Macro card arrival" (3 tickets, e.g. ticket:M0, ticket:M1, ticket:M2)' in out
    assert 'vip-goodwill "Vip goodwill" (2 tickets' in out and "refund" not in out.split("learned actions")[1]
    assert "describe them under `actions:` in the config" in out
    assert main(["ingest", "--tickets", str(tickets), "--json"]) == 0
    learned = json.loads(capsys.readouterr().out)["learned_actions"]
    assert [(a["id"], a["tickets"], a["brands"]) for a in learned] == [
        ("macro_card_arrival", 3, ["acme"]), ("vip-goodwill", 2, ["acme"])]
