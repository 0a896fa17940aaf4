"""Ingestion and hybrid search against a real persistent Chroma (fake deterministic embeddings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from copilot.service import Copilot
from tests.conftest import ARTICLES, TICKETS, CountingEmbedder, write_jsonl


def test_first_ingest_summary(copilot: Copilot, corpus: dict[str, Path], embedder: CountingEmbedder) -> None:
    s = copilot.ingest([corpus["kb"]], [corpus["tickets"]], progress=False)
    assert (s.added, s.updated, s.unchanged, s.removed) == (len(ARTICLES) + 6, 0, 0, 0)
    assert s.skipped == [("A4", "status 'open' is not solved/closed")]
    assert s.errors == []
    assert embedder.documents_embedded == s.chunks_embedded == copilot.parts.store.count()


def test_reingest_unchanged_embeds_nothing(indexed: Copilot, corpus: dict[str, Path],
                                           embedder: CountingEmbedder) -> None:
    before = embedder.documents_embedded
    s = indexed.ingest([corpus["kb"]], [corpus["tickets"]], progress=False)
    assert embedder.documents_embedded == before
    assert (s.added, s.updated, s.unchanged, s.chunks_embedded) == (0, 0, len(ARTICLES) + 6, 0)


def test_changed_source_is_updated_and_old_chunks_go(indexed: Copilot, corpus: dict[str, Path],
                                                     embedder: CountingEmbedder) -> None:
    arts = [dict(a) for a in ARTICLES]
    arts[0]["body"] = "Refunds now take 1 business day."  # 2 sections -> 1 chunk
    write_jsonl(corpus["kb"], arts)
    before = embedder.documents_embedded
    s = indexed.ingest([corpus["kb"]], progress=False)
    assert (s.added, s.updated) == (0, 1)
    assert embedder.documents_embedded - before == 1
    ids = indexed.parts.store.collection("acme").get(where={"source_id": "article:refunds"})["ids"]
    assert ids == ["article:refunds#0"]


def test_prune_removes_sources_that_disappeared(indexed: Copilot, corpus: dict[str, Path]) -> None:
    write_jsonl(corpus["tickets"], [t for t in TICKETS if t["id"] != "A3"])
    s = indexed.ingest([corpus["kb"]], [corpus["tickets"]], prune=True, progress=False)
    assert s.removed == 1
    assert "ticket:A3" not in indexed.parts.store.sources("acme")
    assert "ticket:A1" in indexed.parts.store.sources("acme")
    assert not [h for h in indexed.search("package tracking not updating", brand="acme") if h.source_id == "ticket:A3"]


def test_bad_lines_are_reported_and_good_records_ingested(copilot: Copilot, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(TICKETS[1]) + "\n{broken\n" + json.dumps(TICKETS[2]) + "\n", encoding="utf-8")
    s = copilot.ingest([], [path], progress=False)
    assert s.added == 2
    assert len(s.errors) == 1 and f"{path}:2" in s.errors[0]


def test_nothing_personal_reaches_the_store(indexed: Copilot) -> None:
    dump = json.dumps([indexed.parts.store.collection(b).get(include=["documents", "metadatas"])
                       for b in indexed.parts.store.brands()], ensure_ascii=False)
    for secret in ("jane.doe@example.com", "A55321", "Jane"):
        assert secret not in dump
    assert "[EMAIL]" in dump


def test_brand_is_isolation_not_a_hint(indexed: Copilot) -> None:
    acme = indexed.search("Where is my refund? I returned the chair two weeks ago.", brand="acme", k=20)
    assert acme and all(h.chunk.brand == "acme" for h in acme)
    globex = indexed.search("Where is my refund? I returned the chair two weeks ago.", brand="globex", k=20)
    assert {h.source_id for h in globex} == {"ticket:G1", "article:globex-refunds"}
    assert indexed.parts.searcher.search("refund", brand="nobody") == []  # an empty brand finds nothing
    assert indexed.parts.store.brands() == ["acme", "globex"]
    from copilot.errors import UnknownBrandError

    with pytest.raises(UnknownBrandError):  # and the facade says the brand is unknown rather than answer nothing
        indexed.search("refund", brand="nobody")


def test_hits_expose_dense_and_lexical_scores_and_kind_filter(indexed: Copilot) -> None:
    hits = indexed.search("refund bank business days", brand="acme", k=5)
    top = hits[0]
    assert top.score > 0 and top.dense is not None and top.lexical is not None
    arts = indexed.search("refund bank business days", brand="acme", k=5, kinds=["article"])
    assert arts and all(h.chunk.kind == "article" for h in arts)


def test_multilingual_queries_find_same_language_sources(indexed: Copilot) -> None:
    vi = indexed.search("chưa nhận được hoàn tiền", brand="acme", k=3)
    assert vi[0].chunk.locale == "vi"
    zh = indexed.search("退款什么时候到账", brand="acme", k=3)
    assert zh[0].chunk.locale == "zh"


def test_near_identical_tickets_are_deduplicated(copilot: Copilot, tmp_path: Path) -> None:
    base = TICKETS[0]
    dupes = [dict(base, id=f"D{i}") for i in range(4)]
    copilot.ingest([], [write_jsonl(tmp_path / "d.jsonl", dupes)], progress=False)
    hits = copilot.search("Where is my refund? I returned the chair two weeks ago.", brand="acme", k=5)
    assert len([h for h in hits if h.chunk.kind == "ticket"]) == 1
    assert len(copilot.search("Where is my refund?", brand="acme", k=5)) == 1


def test_store_persists_across_processes(indexed: Copilot, tmp_path: Path) -> None:
    code = ("from copilot.service import Copilot; from copilot.settings import Settings; from tests.conftest import "
            "CountingEmbedder; from pathlib import Path; import sys\n"
            "cp = Copilot(Settings(data_dir=Path(sys.argv[1]), embedder='hash'), embedder=CountingEmbedder())\n"
            "print(cp.parts.store.count(), cp.search('shipping express', brand='acme')[0].source_id)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "data")], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == [str(indexed.parts.store.count()), "article:shipping"]


def test_bm25_cache_is_reused_by_a_new_process_and_refreshed_after_ingest(indexed: Copilot, tmp_path: Path,
                                                                        corpus: dict[str, Path]) -> None:
    indexed.search("refund", brand="acme")
    cached = list((tmp_path / "data" / "lexical").glob("*.bm25.pkl"))
    assert len(cached) == 1

    fresh = Copilot(indexed.settings, config=indexed.config, embedder=CountingEmbedder())
    fresh.parts.store.iter_lexical = None  # type: ignore[method-assign,assignment]  # must not be needed
    assert fresh.search("refund bank business days", brand="acme")[0].lexical is not None

    arts = [dict(a) for a in ARTICLES] + [{"id": "new", "title": "Gift wrap", "brand": "acme",
                                           "body": "We offer gift wrapping with a handwritten card."}]
    write_jsonl(corpus["kb"], arts)
    indexed.ingest([corpus["kb"]], progress=False)
    assert indexed.search("gift wrapping handwritten", brand="acme")[0].source_id == "article:new"
