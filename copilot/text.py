"""Text utilities shared by retrieval, drafting, the checks and evaluation: one place for each rule.

- ``split_sentences`` / ``join_sentences``: sentence boundaries in Latin scripts and CJK.
- ``tokenize``: the general lexical analyzer (content words; Chinese segmented, Vietnamese syllables and
  bigrams with a copy without tone marks) used by overlap measures, grounding and drafting.
- ``LexicalAnalyzer`` / ``BM25_ANALYZER``: the analyzer retrieval indexes with. It differs from
  ``tokenize`` where ranking and overlap want different things (stemming, Chinese segmentation,
  scripts written without spaces) and carries a ``version`` stored with every index.
- ``sequence_tokens``: every word in order, stop words kept, for sequence metrics (ROUGE-L).
- ``word_count``: the length of a reply as people judge it (two CJK characters count as one word).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import Any, Literal

__all__ = ["BM25_ANALYZER", "LexicalAnalyzer", "filter_sentences", "join_sentences", "overlap", "sequence_tokens", "split_sentences", "strip_marks", "surface_tokens",
           "tokenize", "word_count"]

# --- sentence boundaries ---------------------------------------------------------------------
# Rules, not a model: the splitter runs on every sentence of every draft and passage (grounding,
# composition, trimming), so it must cost microseconds. Measured against pysbd and sentencex in
# bench/sentence_split.py. A candidate boundary is a run of terminators with the closing quotes
# and brackets that belong to the sentence, followed by whitespace (Latin scripts) or not (CJK),
# or a line break before a Markdown block (list item, heading, table row). A period candidate is
# then checked against the word before it (abbreviations, initials, list numbers) and the
# character after it.
_CANDIDATE = re.compile(
    r"(?=[.!?…。！？\n])"  # a one-character prefix lets the regex engine skip ahead fast (2x)
    # Possessive runs, started only at the run's first character: linear time on "......" x 1e6.
    r"(?:(?<![.!?…])(?P<latin>[.!?…]++)(?P<close>[\"'”’»)\]]*+)(?=\s)"
    r"|[。！？]+[”’」』）)\]\"']*"
    r"|\n)"
)
_BLOCK_START = re.compile(r"[ \t]*(?:[-*+•][ \t]|\d{1,3}[.)][ \t]|\#{1,6}[ \t]|\|)")
_SHORT_FORM = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}")  # a.m, e.g, U.S
_ENUMERATOR = re.compile(r"\d{1,3}|[a-z]")
_OPENERS = "\"'“‘«([{"
_CLOCK = frozenset({"a.m", "p.m"})
_TIME_ZONES = frozenset({"ET", "EST", "EDT", "CT", "CST", "CDT", "MT", "MST", "MDT", "PT", "PST", "PDT", "GMT", "UTC",
                         "BST", "CET", "CEST", "ICT", "SGT", "HKT", "JST", "KST", "AEST", "IST"})


@lru_cache(maxsize=1)
def _abbreviations() -> dict[str, frozenset[str]]:
    import yaml

    raw = resources.files("copilot.defaults").joinpath("abbreviations.yaml").read_text(encoding="utf-8")
    return {k: frozenset(str(w).lower() for w in v) for k, v in yaml.safe_load(raw).items()}


def _ends_sentence(text: str, start: int, term_at: int, term: str, closed: bool, end: int) -> bool:
    """Whether the terminators ``term`` at ``term_at`` (then closing quotes when ``closed``, up to
    ``end``) end the sentence that began at ``start``."""
    after = text[end : end + 12].lstrip()
    if not after:
        return True
    if closed and after[0].islower():
        return False  # a quoted sentence inside a sentence: 'She wrote "thanks!" and left.'
    if "!" in term or "?" in term:
        return True  # even before a lower-case word: "Where is it?? it has been weeks"
    if term != ".":
        return not after[0].islower()  # "Hmm... let me check" / "I waited... Nothing came."
    # The word before the period; a bounded look back keeps the splitter linear on hostile input
    # (longer words are no abbreviations).
    parts = text[max(start, term_at - 40) : term_at].rsplit(None, 1)
    word = parts[-1].lstrip(_OPENERS) if parts else ""
    low = word.lower()
    abbr = _abbreviations()
    if low in abbr["always"]:
        return False
    if _ENUMERATOR.fullmatch(word):
        before = parts[0].rstrip() if len(parts) == 2 else ""
        if not before or before.endswith(":"):
            return False  # a list number: "1. Sign in." or "Steps: 1. Sign in."
    if len(word) == 1 and word.isalpha():
        return False  # an initial: "J. R. Miller", "Q. 1"
    if after[0].isdigit():
        return low not in abbr["before_number"]
    if after[0].islower():
        return not (low in abbr["before_lowercase"] or _SHORT_FORM.fullmatch(word))
    # "5 p.m. ET" goes on; "5 p.m. Please call" is a new sentence.
    return not (low in _CLOCK and after.split(None, 1)[0].rstrip(".,;") in _TIME_ZONES)


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, stripped, in order (Latin scripts, Vietnamese, CJK). A line break
    ends a sentence only around a Markdown block line (list item, heading, table row)."""
    out: list[str] = []
    start = 0
    for m in _CANDIDATE.finditer(text):
        end = m.end()
        latin = m.group("latin")
        if latin is not None:
            if not _ends_sentence(text, start, m.start(), latin, bool(m.group("close")), end):
                continue
        elif m.group() == "\n":
            line_start = max(text.rfind("\n", start, m.start()) + 1, start)
            if not (_BLOCK_START.match(text, end) or _BLOCK_START.match(text, line_start)):
                continue
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    piece = text[start:].strip()
    if piece:
        out.append(piece)
    return out


def join_sentences(sents: list[str], lang: str | None = None) -> str:
    """Sentences back into a paragraph: no space after a CJK sentence (by ``lang``, or by each
    sentence's own final punctuation when the language is not given)."""
    if lang is not None:
        return ("" if lang in {"zh", "ja"} else " ").join(sents)
    out = ""
    for s in sents:
        out += s if not out or out.endswith(("。", "！", "？")) else " " + s
    return out


def filter_sentences(text: str, keep: Callable[[str], bool]) -> tuple[str, list[str]]:
    """Drop the sentences ``keep`` rejects, paragraph by paragraph. Returns (text, dropped); text that
    loses nothing is returned unchanged (its own spacing kept)."""
    paras: list[str] = []
    dropped: list[str] = []
    for para in text.split("\n\n"):
        kept: list[str] = []
        for sentence in split_sentences(para):
            (kept if keep(sentence) else dropped).append(sentence)
        if kept:
            paras.append(join_sentences(kept))
    if not dropped:
        return text, []
    return "\n\n".join(paras).strip(), dropped


_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
_COUNTED_WORD = re.compile(r"[A-Za-z0-9À-ỹ]+")


def word_count(text: str) -> int:
    """Words, counting two CJK characters as one word."""
    return len(_COUNTED_WORD.findall(text)) + len(_CJK_CHAR.findall(text)) // 2


def overlap(a: set[str], b: set[str]) -> float:
    """Dice overlap of token sets."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


_SURFACE = re.compile(r"[\u4e00-\u9fff]|[^\W_]+")


def surface_tokens(text: str) -> set[str]:
    """Words (Han characters one by one) and word bigrams, stopwords kept: a cheap proxy for
    ROUGE-style overlap between two replies."""
    words = _SURFACE.findall(text.lower())
    return set(words) | {f"{a} {b}" for a, b in pairwise(words)}


# --- the lexical analyzer ------------------------------------------------------------------------
# Chinese has no spaces: jieba's search-mode segmentation (words and their sub-words) gives recall
# on both short and compound terms. Vietnamese writes one syllable per space-separated token and
# most words are two syllables: syllables plus syllable bigrams, and a copy without tone marks
# because customers often type without them. Other languages: lower-cased words, light folding.

_HAN_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_VI_MARKS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]")
_STOP = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "i", "me", "my", "we", "our", "you", "your", "he", "she", "they", "them", "their", "do", "does", "did", "have", "has", "had", "can", "could", "would", "should", "will", "just", "so", "than", "then", "there", "here", "what", "which", "who", "whom", "how", "when", "where", "why", "not", "no", "yes", "please", "hi", "hello", "thanks", "thank", "am", "im", "i'm", "ve", "ll", "re", "s", "t", "là", "và", "của", "có", "cho", "được", "không", "này", "đó", "thì", "mà", "với", "các", "những", "một", "tôi", "bạn", "em", "anh", "chị", "ạ", "nhé"]
) | frozenset("的了是在我你他她它们吗呢吧啊和与及或也都就还")


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def strip_marks(word: str) -> str:
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
        plain = [strip_marks(w) for w in words]
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
    out.extend(f"{strip_marks(a)}_{strip_marks(b)}" for a, b in pairwise(words)
               if a not in _STOP and b not in _STOP)
    return out




def sequence_tokens(text: str) -> list[str]:
    """Words in order, for sequence metrics: Chinese segmented by jieba (precise mode), other
    scripts by word characters; lower-cased, stop words kept (as ROUGE does)."""
    text = unicodedata.normalize("NFC", text.lower())
    out: list[str] = []
    pos = 0
    for m in _HAN_RUN.finditer(text):
        out += _WORD.findall(text[pos : m.start()])
        out += [w for w in _jieba().lcut(m.group(0)) if w.strip()]
        pos = m.end()
    return out + _WORD.findall(text[pos:])


# --- the BM25 analyzer ---------------------------------------------------------------------------
# What retrieval indexes. Each choice was measured with bench/retrieval_choices.py on the *tune*
# queries of the full-size sets (500 each; BM25 alone, recall@5 / MRR@10):
# - Chinese (AFQMC, 10.3k questions): jieba precise mode plus overlapping character bigrams
#   (0.244 / 0.160) over search mode (0.244 / 0.155), precise alone (0.240 / 0.157) and bigrams alone
#   (0.222 / 0.139). jieba knows neither 花呗 nor 借呗 and cuts them into single characters in every
#   mode; the bigrams keep them whole, and search mode's extra dictionary sub-words only add
#   near-duplicate terms.
# - Vietnamese (UIT-ViCoV19QA, 4.7k chunks): syllables, syllable bigrams and copies without tone
#   marks (0.446 / 0.362); without the bigrams 0.408 / 0.333, without the copies 0.436 / 0.355.
# - English (Banking77, 3k tickets): Snowball stemming (PyStemmer) 0.892 / 0.795 over the old hand
#   folding 0.880 / 0.787 and no stemming 0.888 / 0.785: "charge", "charged" and "charging" meet.
#   Word bigrams without marks cost English a little (0.904 / 0.801 without them) but are what
#   lets Vietnamese typed without tone marks ("hoan tien") match; they stay.
# - Scripts written without spaces that no segmenter here knows (Thai, Lao, Khmer, Myanmar, Japanese
#   kana): overlapping character bigrams, so such text still has terms to match.
# Stop words: the short lists above. bm25s's Chinese list was not taken: it drops 不能, 不是, 不要 and
# the like, and whether something *cannot* be done is often the whole question.

_SCRIPT_RUN = re.compile(r"(?P<han>[\u4e00-\u9fff\u3400-\u4dbf]+)|(?P<nospace>[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff]+)")


@lru_cache(maxsize=1)
def _english_stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_english_stemmer().stemWord(word))


def _char_bigrams(run: str) -> list[str]:
    return [run] if len(run) < 2 else [run[i : i + 2] for i in range(len(run) - 1)]


@dataclass(frozen=True)
class LexicalAnalyzer:
    """Text -> BM25 terms. Every option is one measured choice; ``version`` names the combination, and
    an index built with another version is re-tokenised rather than mixed with this one."""

    han: Literal["search", "precise", "bigram", "precise+bigram"] = "precise+bigram"
    stem: Literal["snowball", "fold", "none"] = "snowball"
    vi_plain: bool = True          # Vietnamese: also index each syllable without tone marks
    vi_bigrams: bool = True        # Vietnamese: syllable bigrams (without tone marks)
    latin_bigrams: bool = True     # other Latin text: word bigrams without marks (unaccented Vietnamese)
    revision: int = 2              # bump when a rule changes without a new option

    @property
    def version(self) -> str:
        return (f"r{self.revision}-han={self.han}-stem={self.stem}-vi={int(self.vi_plain)}{int(self.vi_bigrams)}"
                f"-lb={int(self.latin_bigrams)}")

    def __call__(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFC", text.lower())
        tokens: list[str] = []
        pos = 0
        for m in _SCRIPT_RUN.finditer(text):
            tokens += self._latin(text[pos : m.start()])
            run = m.group(0)
            tokens += self._han(run) if m.group("han") else _char_bigrams(run)
            pos = m.end()
        return tokens + self._latin(text[pos:])

    def _han(self, run: str) -> list[str]:
        if self.han == "bigram":
            return _char_bigrams(run)
        words = _jieba().cut_for_search(run) if self.han == "search" else _jieba().cut(run)
        out = [w for w in words if w.strip() and w not in _STOP]
        return out + _char_bigrams(run) if self.han == "precise+bigram" else out

    def _word(self, w: str) -> str:
        if self.stem == "snowball" and not w.isdigit():
            return _stem(w)
        return _fold(w) if self.stem == "fold" else w

    def _latin(self, text: str) -> list[str]:
        words = _WORD.findall(text)
        if not words:
            return []
        vi = sum(1 for w in words if _VI_MARKS.search(w)) >= max(1, len(words) // 4)
        if vi:
            plain = [strip_marks(w) for w in words]
            out = [w for w in words if w not in _STOP]
            if self.vi_plain:
                out += [p for w, p in zip(words, plain, strict=True) if p != w and w not in _STOP]
            if self.vi_bigrams:
                out += [f"{a}_{b}" for a, b in pairwise(plain)]
            return out
        out = [self._word(w) for w in words if w not in _STOP]
        if self.latin_bigrams:
            out += [f"{strip_marks(a)}_{strip_marks(b)}" for a, b in pairwise(words) if a not in _STOP and b not in _STOP]
        return out


BM25_ANALYZER = LexicalAnalyzer()

