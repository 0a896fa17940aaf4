"""Per-brand fusion weights against a real persistent Chroma: calibrated on the brand's own data,
published with the index, visible, refreshable; old indexes keep working and get migrated."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from copilot.cli import main
from copilot.config import CopilotConfig
from copilot.models import Article, Message, Ticket
from copilot.retrieval.fusion import PRIORS, FusionCalibration
from copilot.service import Copilot
from copilot.settings import Settings
from copilot.text import BM25_ANALYZER, LexicalAnalyzer

N = 30


class TopicEmbedder:
    """A fake 'semantic' model: alphaN, betaN and gammaN are synonyms (one axis per N), other words
    only add a faint hashed trace. It understands what BM25 cannot match."""

    name = "topic-fake"
    dim = 96
    floor = 0.2
    ceiling = 0.9

    def _vec(self, text: str) -> np.ndarray[Any, Any]:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            m = re.fullmatch(r"(?:alpha|beta|gamma)(\d+)", word)
            if m:
                v[int(m.group(1)) % 64] += 1.0
            else:
                v[64 + int(hashlib.sha1(word.encode()).hexdigest(), 16) % 32] += 0.05
        return v / (np.linalg.norm(v) or 1.0)

    def embed_documents(self, texts: Any) -> np.ndarray[Any, Any]:
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray[Any, Any]:
        return self._vec(text)


def _misleading_tickets() -> list[Ticket]:
    # Ticket t's subject names its topic with one synonym and a decoy word that only ticket t+7's
    # message holds; the message names the topic with another synonym. Words lead BM25 astray.
    return [Ticket(id=f"T{t}", subject=f"help with alpha{t} and decoy{(t + 7) % N}", status="solved", locale="en",
                   messages=[Message(author="customer", body=f"my beta{t} stopped working, see decoy{t} details"),
                             Message(author="agent", body=f"fixed beta{t}")])
            for t in range(N)]


def _copilot(tmp_path: Path, embedder: Any, name: str = "data") -> Copilot:
    return Copilot(Settings(data_dir=tmp_path / name), config=CopilotConfig(), embedder=embedder)


def test_a_brand_where_lexical_is_useless_does_not_lose_to_dense_alone(tmp_path: Path) -> None:
    cp = _copilot(tmp_path, TopicEmbedder())
    summary = cp.ingest_records(tickets=_misleading_tickets(), brand="misled")
    assert summary.calibrated == ["misled"]
    weight = cp.parts.searcher.weight("misled", "en")
    assert weight.source == "calibrated" and weight.queries == N
    assert weight.mrr["lexical"] < 0.2 < 0.9 < weight.mrr["dense"]
    assert weight.dense >= 0.9  # lexical gets (almost) no say
    hybrid = dense = 0
    for t in range(N):
        query = f"gamma{t} decoy{(t + 3) % N} problem"  # a synonym neither index holds, and a decoy
        hits = cp.search(query, brand="misled", k=3)
        hybrid += hits[0].source_id == f"ticket:T{t}"
        top = cp.parts.store.query("misled", cp.embedder.embed_query(query), 1)
        dense += top[0][0].source_id == f"ticket:T{t}"
    assert dense == N and hybrid >= dense


def test_a_brand_whose_words_do_match_keeps_lexical(tmp_path: Path) -> None:
    # The same shape, but the subject shares its words with the message: BM25 finds every target.
    tickets = [Ticket(id=f"T{t}", subject=f"widget{t} sprocket{t} jammed", status="solved", locale="en",
                      messages=[Message(author="customer", body=f"the widget{t} and sprocket{t} jammed again")])
               for t in range(N)]
    cp = _copilot(tmp_path, TopicEmbedder())
    cp.ingest_records(tickets=tickets, brand="words")
    weight = cp.parts.searcher.weight("words", "en")
    assert weight.source == "calibrated" and weight.dense <= 0.5 and weight.mrr["lexical"] > weight.mrr["dense"]


def test_calibration_is_published_with_the_index_and_seen_by_another_replica(tmp_path: Path) -> None:
    writer = _copilot(tmp_path, TopicEmbedder())
    reader = _copilot(tmp_path, TopicEmbedder())  # another process on the same store
    reader.parts.searcher._version_check_s = 0.0
    assert reader.parts.searcher.search("alpha1", brand="misled", k=5) == []  # caches the empty state
    writer.ingest_records(tickets=_misleading_tickets(), brand="misled")
    state = writer.parts.store.state("misled")
    # One metadata write carries the version, the analyzer of the terms and the weights.
    assert state["analyzer"] == BM25_ANALYZER.version and state["lexical_version"] != "new"
    stored = FusionCalibration.parse(state["fusion"])
    assert stored is not None and stored.chunks == N
    assert reader.parts.searcher.calibration("misled") == stored
    before = stored.created_at, state["lexical_version"]
    again = writer.recalibrate("misled")
    assert again is not None and again.languages == stored.languages
    assert writer.parts.store.state("misled")["lexical_version"] != before[1]


def test_small_ingests_keep_the_weights_and_a_tenth_more_refreshes_them(tmp_path: Path) -> None:
    cp = _copilot(tmp_path, TopicEmbedder())
    tickets = _misleading_tickets()
    cp.ingest_records(tickets=tickets[:25], brand="misled")
    first = cp.parts.searcher.calibration("misled")
    assert first is not None and first.chunks == 25
    assert cp.ingest_records(tickets=tickets[25:27], brand="misled").calibrated == []
    assert cp.parts.searcher.calibration("misled") == first
    assert cp.ingest_records(tickets=tickets[27:], brand="misled").calibrated == ["misled"]
    latest = cp.parts.searcher.calibration("misled")
    assert latest is not None and latest.chunks == N


def test_too_few_pseudo_queries_keep_the_language_prior(indexed: Copilot) -> None:
    cal = indexed.parts.searcher.calibration("acme")
    assert cal is not None and cal.languages == {}
    w = indexed.parts.searcher.weight("acme", "zh")
    assert w.source == "prior"
    assert indexed.search("退款什么时候到账", brand="acme")[0].source_id in {"article:zh-tuikuan", "ticket:Z1"}


THAI = [Article(id="refund", title="", locale="th", body="คืนเงินภายในเจ็ดวันหลังได้รับสินค้าคืน"),
        Article(id="shipping", title="", locale="th", body="จัดส่งสินค้าภายในสามวันทำการทั่วประเทศ"),
        Article(id="password", title="", locale="th", body="รีเซ็ตรหัสผ่านได้จากหน้าเข้าสู่ระบบ")]


def test_a_language_without_a_tokenizer_still_works(tmp_path: Path) -> None:
    from copilot.retrieval.embeddings import HashEmbedder

    cp = _copilot(tmp_path, HashEmbedder())
    assert cp.ingest_records(THAI, brand="th").ok
    hits = cp.search("อยากได้เงินคืน ต้องรอกี่วัน", brand="th", k=3)
    assert hits[0].source_id == "article:refund" and hits[0].lexical
    e = cp.explain_search("อยากได้เงินคืน", brand="th")
    assert e.language == "th" and e.weight.source == "default" and "เง" in e.terms


def _make_old(cp: Copilot, brand: str) -> None:
    """Rewrite a brand as an index from before analyzer versions: old terms, no analyzer, no weights."""
    old = LexicalAnalyzer(han="search", stem="fold")
    col = cp.parts.store.collection(brand)
    assert col is not None
    from copilot.retrieval.lexical import lexical_text

    cp.parts.store.set_lexical(brand, [(c.id, " ".join(old(lexical_text(c)))) for c in cp.parts.store.iter_chunks(brand)])
    meta = {k: v for k, v in cp.parts.store.state(brand).items() if k not in {"analyzer", "fusion"}}
    meta["lexical_version"] = "v-before"
    col.modify(metadata=meta)


def test_an_index_from_an_older_analyzer_keeps_working_and_is_migrated_by_ingest(
        tmp_path: Path, corpus: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    from copilot.retrieval.embeddings import HashEmbedder

    cp = _copilot(tmp_path, HashEmbedder())
    cp.ingest([corpus["kb"]], [corpus["tickets"]], progress=False)
    _make_old(cp, "acme")
    fresh = _copilot(tmp_path, HashEmbedder())  # a process started after the upgrade
    hits = fresh.search("refunded charging", brand="acme")
    assert hits and "stemmed terms never meet" not in caplog.text
    assert "re-tokenising" in caplog.text  # the stored old terms are not mixed with new query terms
    e = fresh.explain_search("refunds", brand="acme")
    assert e.index_analyzer == "" and e.calibration is None and e.weight.source == "prior"
    assert BM25_ANALYZER("refunded") == ["refund"] and fresh.parts.searcher.lexical("acme").search(["refund"], 3)

    s = fresh.ingest([corpus["kb"]], [corpus["tickets"]], progress=False)
    assert s.chunks_embedded == 0 and "acme" in s.migrated and "acme" in s.calibrated
    state = fresh.parts.store.state("acme")
    assert state["analyzer"] == BM25_ANALYZER.version and FusionCalibration.parse(state["fusion"]) is not None
    stored = dict(fresh.parts.store.iter_lexical("acme"))
    refunds = next(c for c in fresh.parts.store.iter_chunks("acme") if c.id == "article:refunds#0")
    assert stored[refunds.id].split() == BM25_ANALYZER(refunds.text)


def test_search_explain_and_recalibrate_on_the_command_line(tmp_path: Path, corpus: dict[str, Path],
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COPILOT_EMBEDDER", "hash")
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("COPILOT_CONFIG", str(corpus["config"]))
    assert main(["ingest", "--kb", str(corpus["kb"]), "--tickets", str(corpus["tickets"])]) == 0
    capsys.readouterr()
    assert main(["search", "refund charging", "--explain", "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert "dense share" in out and "language en" in out and "terms: refund charg" in out and "calibrated" in out
    assert main(["search", "refund", "--explain", "--recalibrate", "--json", "--k", "2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["explain"]["weight"] == {"dense": PRIORS["en"], "source": "prior", "queries": 0, "mrr": {}}
    assert len(doc["hits"]) == 2
    assert {"dense_rank", "lexical_rank"} <= set(doc["hits"][0])
    assert doc["explain"]["calibration"]["chunks"] > 0


def test_pseudo_queries_that_nothing_answers_keep_the_prior(tmp_path: Path) -> None:
    # Openers that say nothing about the rest of the message: neither signal finds the target.
    tickets = [Ticket(id=f"T{t}", status="solved", locale="en", messages=[Message(
        author="customer", body=f"Hello there good morning team. Order number{t} for widget{t} broke.")])
        for t in range(N)]
    cp = _copilot(tmp_path, TopicEmbedder())
    cp.ingest_records(tickets=tickets, brand="noise")
    w = cp.parts.searcher.weight("noise", "en")
    assert w.source == "prior" and w.queries == N and max(w.mrr["dense"], w.mrr["lexical"]) < 0.2


def test_a_long_section_retrieves_the_passage_that_answers(tmp_path: Path) -> None:
    from copilot.retrieval.embeddings import HashEmbedder

    filler = [f"Clause {i} sets out the terms for accessory model {i} in detail." for i in range(70)]
    answer = "Batteries are covered for six months from the day of delivery."
    body = "## What the warranty covers\n" + " ".join([*filler[:45], answer, *filler[45:]])
    cp = _copilot(tmp_path, HashEmbedder())
    cp.ingest_records([Article(id="warranty", title="Warranty", body=body, locale="en")], brand="acme")
    assert cp.parts.store.count("acme") >= 4
    top = cp.search("how long are batteries covered after delivery", brand="acme", k=1)[0]
    assert answer in top.chunk.text and top.chunk.text.startswith("Warranty › What the warranty covers\n")
