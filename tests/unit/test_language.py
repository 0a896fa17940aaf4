from __future__ import annotations

import pytest

from copilot.language import detect_language


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
