"""Language detection tuned for short support messages.

Script and diacritic rules settle the cases a statistical model gets wrong
on a few words (Vietnamese without context, Chinese vs Japanese); py3langid,
which ships its model inside the package, handles the rest.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["detect_language", "text_tokens_ratio"]

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

_LANGID_LANGS = ["en", "vi", "zh", "es", "fr", "de", "pt", "it", "nl", "id", "ja", "ko", "ru", "tr", "pl", "sv", "th"]


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(_LANGID_LANGS)
    return ident


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
    lang, prob = _identifier().classify(text)
    # Very short Latin-script messages ("ok thanks", "help!") are unreliable:
    # keep the default unless the model is sure.
    if len(text.split()) < 4 and prob < 0.9:
        return default
    return str(lang)
