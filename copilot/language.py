"""Language detection tuned for short support messages.

Script and diacritic rules settle the cases a statistical model gets wrong
on a few words (Vietnamese without context, Chinese vs Japanese); py3langid,
which ships its model inside the package, handles the rest.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

from copilot.brand import BrandProfile, primary_language
from copilot.text import strip_marks

__all__ = ["detect_language", "looks_unaccented_vietnamese", "reply_language", "text_tokens_ratio"]

_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
# Letters that only Vietnamese uses among Latin-script languages.
_VI_ONLY = re.compile(r"[ơưđăạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹƠƯĐĂẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ]")
_URL_OR_HANDLE = re.compile(r"https?://\S+|@\w+|\[[A-Z_0-9]+\]")
_WORD = re.compile(r"[^\W\d_]+")
# One Vietnamese syllable written without marks: initial consonant(s), an optional medial o/u,
# a vowel nucleus, an optional final. Loose on purpose: its job is to reject the multi-syllable
# words of Italian, Spanish, Indonesian or Tagalog ("voglio", "pedido", "pesanan", "ibalik").
_VI_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?(?:[ou](?=[aeiy]))?"
    r"(?:ie|ye|uo|ua|ia|oo|[aeiouy])(?:ng|nh|ch|[cmnpt]|[iouy])?"
)

_LANGID_LANGS = ["en", "vi", "zh", "es", "fr", "de", "pt", "it", "nl", "id", "tl", "ja", "ko", "ru", "tr", "pl", "sv", "th"]


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(_LANGID_LANGS)
    return ident


@lru_cache(maxsize=1)
def _vi_syllables() -> frozenset[str]:
    import yaml

    raw = resources.files("copilot.defaults").joinpath("vietnamese.yaml").read_text(encoding="utf-8")
    return frozenset(str(w) for w in yaml.safe_load(raw)["unaccented_syllables"])


def looks_unaccented_vietnamese(text: str) -> bool:
    """Vietnamese typed without tone marks: at least two (and a quarter of the) words are frequent
    Vietnamese syllables that are not also common words elsewhere, and 70% of the words could be
    Vietnamese syllables at all (a name like "Nguyen Thanh" in an English sentence is not enough).
    Thresholds from bench/language_detect.py: no English message of TweetSumm or Banking77 taken
    for Vietnamese."""
    words = [strip_marks(w) for w in _WORD.findall(text.lower())]
    if len(words) < 2:
        return False
    known = _vi_syllables()
    hits = sum(w in known for w in words)
    if hits < 2 or hits < 0.25 * len(words):
        return False
    return sum(_VI_SYLLABLE.fullmatch(w) is not None for w in words) >= 0.7 * len(words)


def text_tokens_ratio(pattern: re.Pattern[str], text: str) -> float:
    letters = _LETTER.findall(text)
    if not letters:
        return 0.0
    return len(pattern.findall(text)) / len(letters)


def detect_language(text: str, default: str = "en") -> str:
    """Return a BCP-47 primary language code ("en", "vi", "zh", ...)."""
    text = _URL_OR_HANDLE.sub(" ", text)
    if not _LETTER.search(text):
        return default
    if _KANA.search(text):
        return "ja"
    if text_tokens_ratio(_HAN, text) > 0.3:
        return "zh"
    if text_tokens_ratio(_HANGUL, text) > 0.3:
        return "ko"
    if text_tokens_ratio(_THAI, text) > 0.3:
        return "th"
    if text_tokens_ratio(_CYRILLIC, text) > 0.3:
        return "ru"
    if text_tokens_ratio(_ARABIC, text) > 0.3:
        return "ar"
    if len(_VI_ONLY.findall(text.lower())) >= 2 or (len(text) < 40 and _VI_ONLY.search(text.lower())):
        return "vi"
    if looks_unaccented_vietnamese(text):
        return "vi"
    lang, prob = _identifier().classify(text)
    # Very short Latin-script messages ("ok thanks", "help!") are unreliable:
    # keep the default unless the model is sure.
    if len(text.split()) < 4 and prob < 0.9:
        return default
    return str(lang)


def reply_language(detected: str, profile: BrandProfile) -> str:
    """The language to reply in: the customer's (``detected``) when the brand serves it, else the
    brand's ``default_language`` (a brand that lists no languages serves all of them)."""
    lang = primary_language(detected) if detected.strip() else ""
    return lang if lang and profile.serves(lang) else profile.fallback_language
