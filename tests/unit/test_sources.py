from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.errors import InputError
from copilot.retrieval.sources import load_kb, load_tickets


def test_kb_folder_reads_markdown_front_matter_html_and_txt(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.md").write_text("---\nid: ret\ntitle: Returns\nurl: https://x/r\nlocale: en\ntags: [a, b]\n---\n"
                                   "# Returns\nReturn within 30 days.", encoding="utf-8")
    (tmp_path / "sub" / "b.html").write_text("<html><head><title>Shipping</title><script>x()</script></head><body>"
                                             "<h2>Times</h2><p>Ships in 3 days.</p></body></html>", encoding="utf-8")
    (tmp_path / "c.txt").write_text("Plain text article.", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    out = load_kb(tmp_path)
    by_id = {a.id: a for a in out.articles}
    assert set(by_id) == {"ret", "sub/b.html", "c.txt"}
    assert by_id["ret"].url == "https://x/r" and by_id["ret"].tags == ["a", "b"]
    assert by_id["sub/b.html"].title == "Shipping"
    assert "## Times" in by_id["sub/b.html"].body and "x()" not in by_id["sub/b.html"].body
    assert out.issues == []
    assert [why for _, why in out.skipped] == ["unsupported file type .png"]


def test_bad_front_matter_is_reported_and_other_files_still_load(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("---\ntitle: [unclosed\n---\nbody", encoding="utf-8")
    (tmp_path / "good.md").write_text("# Good\nbody", encoding="utf-8")
    out = load_kb(tmp_path)
    assert [a.id for a in out.articles] == ["good.md"]
    assert len(out.issues) == 1 and "bad.md" in out.issues[0].where


def test_jsonl_errors_name_file_and_line_and_keep_good_records(tmp_path: Path) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_text('{"id": "1", "title": "A", "body": "a"}\n{not json\n\n{"id": "3"}\n[1]\n'
                    '{"id": "5", "body": "e"}\n', encoding="utf-8")
    out = load_kb(path)
    assert [a.id for a in out.articles] == ["1", "5"]
    wheres = [i.where for i in out.issues]
    assert wheres == [f"{path}:2", f"{path}:4", f"{path}:5"]
    assert "body" in out.issues[1].message


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_kb(tmp_path / "nope")
    with pytest.raises(InputError, match="not found"):
        load_tickets(tmp_path / "nope.jsonl")


def test_tickets_only_resolved_by_default_and_reasons_for_skips(tmp_path: Path) -> None:
    rows = [
        {"id": "1", "status": "solved", "messages": [{"author": "customer", "body": "q"}, {"author": "agent", "body": "a"}]},
        {"id": 2, "messages": [{"author": "customer", "body": "q"}, {"author": "agent", "body": "a"}]},
        {"id": "3", "status": "open", "messages": [{"author": "customer", "body": "q"}, {"author": "agent", "body": "a"}]},
        {"id": "4", "status": "closed", "messages": [{"author": "customer", "body": "q"}]},
        {"id": "5", "messages": [{"author": "robot", "body": "q"}]},
        {"id": "6", "actions": ["refund"], "messages": [{"author": "customer", "body": "q"}]},
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = load_tickets(path)
    assert [t.id for t in out.tickets] == ["1", "2", "6"]
    assert dict(out.skipped) == {"3": "status 'open' is not solved/closed", "4": "no agent reply or action to learn from"}
    assert len(out.issues) == 1 and out.issues[0].where == f"{path}:5"
    assert [t.id for t in load_tickets(path, include_unresolved=True).tickets] == ["1", "2", "3", "6"]


def test_zendesk_ticket_export_maps_comments_and_drops_internal_notes(tmp_path: Path) -> None:
    export = {
        "tickets": [{
            "id": 901, "subject": "Broken lamp", "status": "solved", "requester_id": 7, "tags": ["damaged"],
            "comments": [
                {"author_id": 7, "body": "My lamp arrived broken", "public": True},
                {"author_id": 99, "body": "internal: customer is VIP", "public": False},
                {"author_id": 99, "body": "Sorry! We are sending a replacement.", "public": True},
            ],
        }],
        "users": [{"id": 7, "role": "end-user"}, {"id": 99, "role": "agent"}],
    }
    path = tmp_path / "zendesk.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    out = load_tickets(path)
    (t,) = out.tickets
    assert t.id == "901" and t.subject == "Broken lamp" and t.tags == ["damaged"]
    assert [(m.author, m.body) for m in t.messages] == [
        ("customer", "My lamp arrived broken"), ("agent", "Sorry! We are sending a replacement.")]


def test_zendesk_ndjson_export_is_detected_per_line(tmp_path: Path) -> None:
    line = {"id": 5, "status": "closed", "requester_id": 1,
            "comments": [{"author_id": 1, "body": "help"}, {"author_id": 2, "body": "done"}]}
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (t,) = load_tickets(path).tickets
    assert [m.author for m in t.messages] == ["customer", "agent"]


def test_helpcenter_articles_export(tmp_path: Path) -> None:
    doc = {"articles": [
        {"id": 1, "title": "Returns", "body": "<h2>How</h2><p>Return in 30 days.</p>", "locale": "en-us",
         "html_url": "https://acme.zendesk.com/hc/articles/1", "label_names": ["returns"], "draft": False},
        {"id": 2, "title": "Draft", "body": "<p>wip</p>", "draft": True},
    ]}
    path = tmp_path / "articles.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = load_kb(path)
    (a,) = out.articles
    assert a.id == "1" and a.url.endswith("/1") and a.tags == ["returns"] and "Return in 30 days." in a.body
    assert out.skipped == [("2", "draft article")]
