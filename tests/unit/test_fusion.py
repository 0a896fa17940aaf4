"""The fusion rule, the stored calibration and the BM25 analyzer: pure functions, no store."""

from __future__ import annotations

import pytest

from copilot.retrieval.fusion import PRIORS, FusionCalibration, SignalWeight, fuse, prior
from copilot.text import BM25_ANALYZER, LexicalAnalyzer, tokenize


def _order(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda c: -scores[c])


DENSE = {"a": 0.91, "b": 0.88, "c": 0.80}
LEXICAL = {"a": 0.0, "b": 2.0, "c": 9.0}


def test_a_share_of_one_is_dense_alone_and_zero_lexical_alone() -> None:
    assert _order(fuse("abc", DENSE, LEXICAL, 1.0)) == ["a", "b", "c"]
    assert _order(fuse("abc", DENSE, LEXICAL, 0.0)) == ["c", "b", "a"]


def test_margins_count_not_only_order() -> None:
    # Lexical's huge margin on c beats dense's tiny margins at an even share; RRF would tie them.
    assert _order(fuse("abc", {"a": 0.90, "b": 0.89, "c": 0.89}, LEXICAL, 0.5))[0] == "c"


def test_candidates_missing_a_signal_and_degenerate_pools() -> None:
    scores = fuse(["a", "x"], {"a": 0.9}, {"x": 3.0}, 0.5)
    assert set(scores) == {"a", "x"}  # x has no vector: the pool's lowest cosine, not an error
    assert fuse([], {}, {}, 0.5) == {}
    assert fuse(["a"], {"a": 0.5}, {}, 0.7) == {"a": 0.0}
    assert set(fuse(["a", "b"], {}, {}, 0.5).values()) == {0.0}


def test_calibration_round_trips_and_falls_back_to_priors() -> None:
    cal = FusionCalibration(analyzer="x", created_at="now", chunks=10,
                            languages={"vi": SignalWeight(dense=1.0, source="calibrated", queries=30)})
    again = FusionCalibration.parse(cal.model_dump_json())
    assert again == cal
    assert again.weight("vi").dense == 1.0 and again.weight("zh") == prior("zh")
    assert prior("zh").dense == PRIORS["zh"] and prior("zh").source == "prior"
    assert prior("xx").source == "default"
    for raw in (None, 3, "not json", '{"format": 999, "analyzer": "x", "created_at": "", "chunks": 0}'):
        assert FusionCalibration.parse(raw) is None


def test_chinese_words_and_bigrams_without_search_mode_sub_words() -> None:
    search = LexicalAnalyzer(han="search")("中华人民共和国花呗")
    terms = BM25_ANALYZER("中华人民共和国花呗")
    assert "中华人民共和国" in terms and "花呗" in terms  # jieba cuts 花呗 into 花 + 呗; the bigram keeps it
    assert "共和国" in search and "共和国" not in terms
    assert tokenize("我的退款什么时候到账") != []  # the general analyzer is unchanged


def test_english_is_stemmed_by_snowball() -> None:
    forms = {BM25_ANALYZER(w)[0] for w in ("charge", "charged", "charging", "charges")}
    assert len(forms) == 1
    assert "the" not in BM25_ANALYZER("the refund")


def test_vietnamese_matches_with_or_without_tone_marks() -> None:
    accented = set(BM25_ANALYZER("Tôi chưa nhận được hoàn tiền"))
    plain = set(BM25_ANALYZER("toi chua nhan duoc hoan tien"))
    assert {"hoan_tien", "hoan", "tien"} <= accented & plain


@pytest.mark.parametrize("text", ["ขอคืนเงินได้ไหม", "返品したいです", "ຂໍຄືນເງິນ"])
def test_scripts_without_spaces_or_a_segmenter_get_character_bigrams(text: str) -> None:
    terms = BM25_ANALYZER(text)
    assert len(terms) >= len(text) - 3 and all(1 <= len(t) <= 2 for t in terms if not t.isascii())


def test_hostile_input_is_cheap_and_total() -> None:
    assert BM25_ANALYZER("") == [] and BM25_ANALYZER("   \n\t") == []
    assert BM25_ANALYZER("🙂🙂🙂 !!! ???") == []
    big = "refund " * 50_000 + "退款" * 10_000 + "ข" * 10_000
    assert len(BM25_ANALYZER(big)) > 50_000


def test_every_option_changes_the_version() -> None:
    variants = [LexicalAnalyzer(), LexicalAnalyzer(han="search"), LexicalAnalyzer(han="precise"), LexicalAnalyzer(stem="fold"),
                LexicalAnalyzer(vi_plain=False), LexicalAnalyzer(vi_bigrams=False), LexicalAnalyzer(latin_bigrams=False)]
    assert len({v.version for v in variants}) == len(variants)
