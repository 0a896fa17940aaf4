from __future__ import annotations

from copilot.retrieval.lexical import build_brand_index
from copilot.text import tokenize


def test_english_folds_plurals_and_drops_stopwords() -> None:
    toks = tokenize("The refunds were refunded")
    assert "refund" in toks and "the" not in toks


def test_chinese_is_segmented_into_words() -> None:
    toks = tokenize("我的退款什么时候到账")
    assert "退款" in toks and "时候" in toks


def test_vietnamese_matches_with_or_without_tone_marks() -> None:
    accented = set(tokenize("Tôi chưa nhận được hoàn tiền"))
    plain = set(tokenize("toi chua nhan duoc hoan tien"))
    assert "hoan_tien" in accented and "hoan_tien" in plain


def test_bm25_ranks_and_ignores_unknown_words() -> None:
    rows = [("a#0", " ".join(tokenize("refund policy for returns"))),
            ("b#0", " ".join(tokenize("refund refund of a late refund"))),
            ("c#0", " ".join(tokenize("shipping times")))]
    idx = build_brand_index(rows, "v1")
    assert [cid for cid, _ in idx.search(tokenize("refund"), 5)] == ["b#0", "a#0"]
    assert idx.search(tokenize("unknownword"), 5) == []
    assert build_brand_index([], "v0").search(tokenize("refund"), 5) == []
