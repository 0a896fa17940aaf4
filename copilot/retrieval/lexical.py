"""Lexical side of hybrid search: multilingual tokenisation and per-brand BM25.

- Chinese has no spaces: jieba's search-mode segmentation (words and their
  sub-words) gives recall on both short and compound terms.
- Vietnamese writes one syllable per space-separated token and most words are
  two syllables: syllables plus syllable bigrams, and a copy without tone
  marks because customers often type without them.
- Other languages: lower-cased words with light suffix folding.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import bm25s
import numpy as np

__all__ = ["BrandIndex", "build_brand_index", "tokenize"]

_HAN_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_VI_MARKS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]")
_STOP = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "i", "me", "my", "we", "our", "you", "your", "he", "she", "they", "them", "their", "do", "does", "did", "have", "has", "had", "can", "could", "would", "should", "will", "just", "so", "than", "then", "there", "here", "what", "which", "who", "whom", "how", "when", "where", "why", "not", "no", "yes", "please", "hi", "hello", "thanks", "thank", "am", "im", "i'm", "ve", "ll", "re", "s", "t", "là", "và", "của", "có", "cho", "được", "không", "này", "đó", "thì", "mà", "với", "các", "những", "một", "tôi", "bạn", "em", "anh", "chị", "ạ", "nhé"]
) | frozenset("的了是在我你他她它们吗呢吧啊和与及或也都就还")


# bm25s logs every index build at DEBUG; hosts that configure root logging would drown in it.
logging.getLogger("bm25s").setLevel(logging.WARNING)


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _strip_marks(word: str) -> str:
    word = word.replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _fold(word: str) -> str:
    # Light English folding: enough to match refund/refunds/refunded.
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text.lower())
    tokens: list[str] = []
    pos = 0
    for m in _HAN_RUN.finditer(text):
        tokens.extend(_latin_tokens(text[pos : m.start()]))
        tokens.extend(w for w in _jieba().cut_for_search(m.group(0)) if w.strip() and w not in _STOP)
        pos = m.end()
    tokens.extend(_latin_tokens(text[pos:]))
    return tokens


def _latin_tokens(text: str) -> list[str]:
    words = _WORD.findall(text)
    if not words:
        return []
    out: list[str] = []
    vi = sum(1 for w in words if _VI_MARKS.search(w)) >= max(1, len(words) // 4)
    if vi:
        plain = [_strip_marks(w) for w in words]
        out.extend(w for w in words if w not in _STOP)
        out.extend(p for w, p in zip(words, plain, strict=True) if p != w and w not in _STOP)
        out.extend(f"{a}_{b}" for a, b in pairwise(plain))
        return out
    for w in words:
        if w in _STOP:
            continue
        out.append(_fold(w))
    # Unaccented Vietnamese looks like any Latin text: bigrams let
    # "hoan tien" match "hoàn tiền" (indexed with a stripped-bigram copy).
    out.extend(f"{_strip_marks(a)}_{_strip_marks(b)}" for a, b in pairwise(words)
               if a not in _STOP and b not in _STOP)
    return out


@dataclass
class BrandIndex:
    """BM25 over one brand's chunks: isolation is structural, not a filter."""

    ids: list[str]
    bm25: Any = None
    version: str = ""

    def search(self, tokens: list[str], k: int) -> list[tuple[str, float]]:
        if self.bm25 is None or not self.ids:
            return []
        vocab = self.bm25.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        scores = self.bm25.get_scores(known)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def build_brand_index(rows: list[tuple[str, str]], version: str) -> BrandIndex:
    """rows: (chunk id, space-joined tokens), as stored at ingest: a rebuild never re-tokenises."""
    ids = [cid for cid, _ in rows]
    if not ids:
        return BrandIndex(ids=[], version=version)
    bm25 = bm25s.BM25()
    bm25.index([toks.split() for _, toks in rows], show_progress=False)
    return BrandIndex(ids=ids, bm25=bm25, version=version)
