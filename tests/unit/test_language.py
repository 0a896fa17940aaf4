from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from copilot.brand import BrandProfile
from copilot.language import detect_language, looks_unaccented_vietnamese, reply_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Where is my refund? I returned the chair last week.", "en"),
        ("Tôi chưa nhận được hoàn tiền", "vi"),
        ("toi chua nhan duoc tien hoan lai", "vi"),
        ("我的退款在哪里", "zh"),
        ("¿Dónde está mi reembolso? Lo pedí hace una semana", "es"),
        ("Wo ist meine Rückerstattung? Ich warte seit einer Woche", "de"),
        ("Je n'ai pas reçu mon remboursement depuis une semaine", "fr"),
        ("@AppleSupport my phone is broken https://t.co/abc", "en"),
    ],
)
def test_detects_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_short_or_empty_text_falls_back_to_default() -> None:
    assert detect_language("ok", default="vi") == "vi"
    assert detect_language("12345 !!!", default="zh") == "zh"


_SAMPLES = yaml.safe_load((Path(__file__).resolve().parent.parent / "fixtures" / "languages.yaml").read_text("utf-8"))


@pytest.mark.parametrize(("lang", "text"), [(lang, t) for lang, ts in _SAMPLES["languages"].items() for t in ts])
def test_support_messages_and_their_look_alikes(lang: str, text: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", _SAMPLES["not_vietnamese"])
def test_look_alikes_are_not_taken_for_unaccented_vietnamese(text: str) -> None:
    assert not looks_unaccented_vietnamese(text)
    assert detect_language(text) != "vi"


def test_unaccented_vietnamese_needs_more_than_one_word() -> None:
    assert not looks_unaccented_vietnamese("toi")
    assert not looks_unaccented_vietnamese("")
    assert looks_unaccented_vietnamese("TOI MUON TRA LAI CAI GHE!!!")
    # Partly accented text counts too.
    assert looks_unaccented_vietnamese("toi muốn tra lai cái ghe")


def test_reply_language_serves_the_customer_or_falls_back_to_the_brand_default() -> None:
    every = BrandProfile()
    assert reply_language("es", every) == "es" and reply_language("", every) == "en"
    served = BrandProfile(languages=["vi", "en", "zh-CN"], default_language="vi")
    assert served.languages == ["vi", "en", "zh"]
    assert reply_language("zh", served) == "zh" and reply_language("en-US", served) == "en"
    assert reply_language("tl", served) == "vi" and reply_language("", served) == "vi"
    # Without a default, the first served language (not English by accident).
    assert reply_language("it", BrandProfile(languages=["vi", "zh"])) == "vi"
    assert BrandProfile(languages="en, vi").languages == ["en", "vi"]


def test_default_language_must_be_served() -> None:
    with pytest.raises(ValidationError, match="default_language 'fr' is not one of languages"):
        BrandProfile(languages=["en", "vi"], default_language="fr")
    with pytest.raises(ValidationError):
        BrandProfile(languages=["en"], default_languages="en")  # type: ignore[call-arg]
