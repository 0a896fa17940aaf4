from __future__ import annotations

import pytest

from copilot.pii import ARTICLE_KINDS, redact, restore


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        ("write to john.doe@example.com please", "EMAIL", "john.doe@example.com"),
        ("call me on +1 (415) 555-0132 tonight", "PHONE", "555-0132"),
        ("số điện thoại 0912 345 678 nhé", "PHONE", "0912 345 678"),
        ("电话13812345678", "PHONE", "13812345678"),
        ("card 4111 1111 1111 1111 was charged", "CARD_NUMBER", "4111 1111 1111 1111"),
        ("order #AB12345 is late", "ORDER_NUMBER", "AB12345"),
        ("order number 98765432 is late", "ORDER_NUMBER", "98765432"),
        ("mã đơn hàng 556677 chưa tới", "ORDER_NUMBER", "556677"),
        ("订单号123456789还没到", "ORDER_NUMBER", "123456789"),
        ("account number 12345678 locked", "ACCOUNT_NUMBER", "12345678"),
        ("I live at 221B Baker Street, London", "ADDRESS", "221B Baker Street"),
        ("giao tới số 12 đường Lê Lợi, Quận 1", "ADDRESS", "Lê Lợi"),
        ("Hi John, thanks", "NAME", "John"),
        ("@jane_smith help", "HANDLE", "@jane_smith"),
    ],
)
def test_redacts_each_kind_with_a_typed_placeholder(text: str, kind: str, secret: str) -> None:
    r = redact(text)
    assert secret not in r.text
    assert f"[{kind}]" in r.text


def test_keeps_amounts_dates_versions_and_non_luhn_numbers() -> None:
    text = "Refund of $49.99 within 30 days, on 2024-03-01, iOS 11.1.2, ref 1234 5678 9012 3456"
    r = redact(text)
    assert r.text == text
    assert r.entities == {}


def test_numbered_placeholders_restore_the_originals() -> None:
    text = "Email a@x.com or b@y.org, again a@x.com"
    r = redact(text, numbered=True)
    assert r.text == "Email [EMAIL_1] or [EMAIL_2], again [EMAIL_1]"
    assert restore(r.text, r.entities) == text
    assert r.counts == {"EMAIL": 2}


def test_articles_keep_company_contact_details() -> None:
    text = "Call 1-800-275-2273 or write to help@acme.example. Card 4111111111111111 is an example."
    r = redact(text, kinds=ARTICLE_KINDS)
    assert "1-800-275-2273" in r.text and "help@acme.example" in r.text
    assert "4111111111111111" not in r.text


def test_plain_text_of_a_numbered_redaction_equals_a_plain_redaction() -> None:
    text = "Hi John, mail a@x.com or b@y.org, again a@x.com; order #AB12345, call +1 415 555 0100"
    assert redact(text, numbered=True).plain_text == redact(text).text
