"""Numbers that identify a person or their business with us: cards, IBANs, national ids,
passports, dates of birth, order and account numbers.

Where a number carries a check digit (IBANs, Chinese resident ids, cards written without spaces)
the check decides, so a number of the right length that fails it survives (a reference, an
amount). Where it carries none (passports, most order numbers) a keyword must introduce it:
"passport no.", "đơn hàng", "订单号". After a keyword, a value is redacted even when its check
fails: a customer who mistypes one digit of a card still shared it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from copilot.privacy.checksums import IBAN_LENGTHS, cn_ric_ok, iban_ok, luhn_ok, vn_citizen_id_plausible
from copilot.privacy.spans import LATIN, Keyed, Span, before, digits_of, has_digit

__all__ = ["account_numbers", "cards", "dates_of_birth", "ibans", "national_ids", "order_numbers", "passports"]

# Between a keyword and its value: punctuation and the little words people put there
# ("order number is", "số CCCD của em là", "护照号码是").
_FILL = (r"(?:[\s:：#＃.,()（）=-]|(?i:numbers?|no|num|nr|id|is|was|are|on|in|my|la|là|số|của|tôi|em|mình|anh|chị)"
         rf"(?![{LATIN}])|号码|号|是|为|于){{0,8}}")


def _keyed(latin: list[str], other: list[str], value: str) -> Keyed:
    """A keyword, the filler, then the value in group ``v``."""
    return Keyed(latin, other, rf"{_FILL}(?P<v>{value})")


_DATE_OR_YEAR = re.compile(r"(?:19|20)[0-9]{2}(?:[-./]?[0-9]{1,2}[-./]?[0-9]{1,2})?"
                           r"|[0-9]{1,2}[-./][0-9]{1,2}[-./](?:19|20)?[0-9]{2}")


def _is_date(value: str) -> bool:
    return _DATE_OR_YEAR.fullmatch(value) is not None


# --- payment cards ------------------------------------------------------------------------------
_CARD = re.compile(r"(?=[0-9])(?<![0-9A-Za-z])[0-9](?:[ .-]{0,2}[0-9]){12,18}(?![0-9])")
_CARD_WORDS = re.compile(r"card|visa|master|amex|jcb|unionpay|debit|credit|thẻ|the tin dung|卡")
# How card numbers are printed: fours (the last group shorter), or Amex and Diners' 4-6-5 and 4-6-4.
_CARD_GROUPS = re.compile(r"(?:[0-9]{4}[ .-]{1,2}){2,4}[0-9]{1,4}|[0-9]{4}[ .-]{1,2}[0-9]{6}[ .-]{1,2}[0-9]{4,5}")


def cards(text: str) -> Iterator[Span]:
    """A number with a card's first digit (2-6), printed in a card's groups or passing the Luhn
    check; or any 13-19 digit number right after a card keyword. A mistyped card written as a card
    is still a card; an unbroken run of digits needs the check to be one."""
    if not has_digit(text):
        return
    for m in _CARD.finditer(text):
        value = m.group(0)
        card_like = value[0] in "23456" and (
            _CARD_GROUPS.fullmatch(value) is not None or (value.isdigit() and luhn_ok(value)))
        if card_like or _CARD_WORDS.search(before(text, m.start(), 24)):
            yield m.span()


# --- IBAN ---------------------------------------------------------------------------------------
# Compact, or in groups of four (the printed form).
_IBAN_CHECK_DIGITS = re.compile(r"(?=[0-9])(?<=[A-Za-z]{2})(?<![A-Za-z0-9][A-Za-z]{2})[0-9]{2}")
_IBAN = re.compile(r"[A-Za-z]{2}[0-9]{2}(?:[A-Za-z0-9]{11,30}|(?:[ -][A-Za-z0-9]{4}){2,7}(?:[ -][A-Za-z0-9]{1,4})?)")
_IBAN_KEYED = _keyed(["iban"], ["国际银行账号"], r"[A-Za-z]{2}[0-9]{2}(?:[ -]?[A-Za-z0-9]){11,30}")


def ibans(text: str) -> Iterator[Span]:
    if not has_digit(text):
        return
    # Each country code + check digits starts a candidate, so a non-IBAN that starts like one
    # cannot hide a real one right after it.
    for d in _IBAN_CHECK_DIGITS.finditer(text):
        m = _IBAN.match(text, d.start() - 2)
        span = _iban_span(text, m.start(), m.group(0), checked=True) if m else None
        if span:
            yield span
    for m in _IBAN_KEYED.finditer(text):
        span = _iban_span(text, m.start("v"), m.group("v"), checked=False)
        if span:
            yield span


def _iban_span(text: str, start: int, candidate: str, *, checked: bool) -> Span | None:
    """The country fixes the length: read that many letters and digits, then check them."""
    length = IBAN_LENGTHS.get(candidate[:2].upper())
    if length is None:
        return None
    taken, end = 0, start
    for i, ch in enumerate(candidate):
        if ch.isalnum():
            taken += 1
            if taken == length:
                end = start + i + 1
                break
    else:
        return None
    compact = re.sub(r"[^A-Za-z0-9]", "", text[start:end])
    return (start, end) if not checked or iban_ok(compact) else None


# --- national ids -------------------------------------------------------------------------------
_CN_RIC = re.compile(
    r"(?=[1-9])(?<![0-9A-Za-z])[1-9][0-9]{5} ?(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]) ?[0-9]{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
_VN_CCCD = re.compile(r"(?=0)(?<![0-9])0[0-9]{2}(?:[ .]?[0-9]){9}(?![0-9])")
_US_SSN = re.compile(r"(?=[0-8])(?<![0-9-])(?!000|666|9)[0-9]{3}(?P<s>[- ])(?!00)[0-9]{2}(?P=s)(?!0000)[0-9]{4}(?![0-9-])")
_ID_KEYED = _keyed(
    ["national id", "national id number", "id number", "id card", "identity card", "identity number", "citizen id",
     "personal id", "ssn", "social security", "social security number", "national insurance",
     "national insurance number", "cccd", "cmnd", "cmt", "căn cước", "căn cước công dân", "chứng minh",
     "chứng minh nhân dân", "chứng minh thư", "số định danh", "số định danh cá nhân", "mã định danh"],
    ["居民身份证号码", "身份证号码", "身份证号", "身份证", "证件号码", "证件号"],
    r"[A-Za-z0-9]{1,20}(?:[ -][0-9]{2,8}){0,5}",
)


def national_ids(text: str) -> Iterator[Span]:
    if not has_digit(text):
        return
    for m in _CN_RIC.finditer(text):
        if cn_ric_ok(m.group(0).replace(" ", "")):
            yield m.span()
    for m in _VN_CCCD.finditer(text):
        if vn_citizen_id_plausible(digits_of(m.group(0))):
            yield m.span()
    for m in _US_SSN.finditer(text):
        yield m.span()
    for m in _ID_KEYED.finditer(text):
        if len(digits_of(m.group("v"))) >= 6:
            yield m.span("v")


# --- passports ----------------------------------------------------------------------------------
_PASSPORT = _keyed(["passport", "hộ chiếu", "ho chieu"], ["护照", "護照"], r"[A-Za-z0-9]{6,10}(?![A-Za-z0-9])")


def passports(text: str) -> Iterator[Span]:
    if not has_digit(text):
        return
    for m in _PASSPORT.finditer(text):
        if len(digits_of(m.group("v"))) >= 5:
            yield m.span("v")


# --- dates of birth -----------------------------------------------------------------------------
_MONTH = (r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_YEAR = r"(?:19|20)[0-9]{2}"
_BIRTH_DATE = (
    rf"[0-3]?[0-9][./-][01]?[0-9][./-](?:19|20)?[0-9]{{2}}(?![0-9])"
    rf"|{_YEAR}[./-][01]?[0-9][./-][0-3]?[0-9](?![0-9])"
    rf"|{_YEAR} ?年 ?[01]?[0-9] ?月 ?[0-3]?[0-9] ?[日号]?"
    rf"|(?:ngày )?[0-3]?[0-9] tháng [01]?[0-9](?: năm|,|/)? ?{_YEAR}"
    rf"|[0-3]?[0-9](?:st|nd|rd|th)? (?:of )?{_MONTH}\.?,? {_YEAR}"
    rf"|{_MONTH}\.? [0-3]?[0-9](?:st|nd|rd|th)?,? {_YEAR}"
    rf"|{_YEAR}(?: ?年)?(?![0-9])"
)
_DOB = _keyed(
    ["dob", "d.o.b", "d.o.b.", "date of birth", "birth date", "birthdate", "birthday", "born", "born on", "born in",
     "ngày tháng năm sinh", "ngày sinh", "sinh ngày", "sinh năm", "năm sinh"],
    ["出生日期", "出生年月日", "出生年月", "出生于", "出生在", "出生", "生日"],
    _BIRTH_DATE,
)


def dates_of_birth(text: str) -> Iterator[Span]:
    if not has_digit(text):
        return
    for m in _DOB.finditer(text):
        yield m.span("v")


# --- order and account numbers ------------------------------------------------------------------
_ORDER_KEYED = _keyed(
    ["order", "orders", "purchase", "invoice", "inv", "tracking", "shipment", "parcel", "booking", "confirmation",
     "reservation", "ticket", "case", "transaction", "receipt", "rma", "đơn hàng", "mã đơn hàng", "mã đơn", "đơn",
     "mã vận đơn", "vận đơn", "mã giao dịch", "hóa đơn", "hoá đơn", "mã vé", "mã đặt chỗ"],
    ["订单编号", "订单号", "订单", "运单号", "快递单号", "物流单号", "单号", "交易号", "流水号", "发票号", "工单号"],
    r"#?[A-Za-z0-9][A-Za-z0-9-]{2,40}",
)
_HASH_NUMBER = re.compile(r"#(?<![\w&#].)(?P<v>[A-Za-z0-9][A-Za-z0-9-]{3,40})")
# Amazon's order number is recognisable on its own: 3-7-7 digits.
_AMAZON_ORDER = re.compile(r"(?=[0-9])(?<![0-9-])[0-9]{3}-[0-9]{7}-[0-9]{7}(?![0-9-])")


def order_numbers(text: str) -> Iterator[Span]:
    if not has_digit(text):
        return
    for m in _ORDER_KEYED.finditer(text):
        value = m.group("v").rstrip("-")
        bare = value.lstrip("#")
        if len(digits_of(bare)) >= 4 and not _is_date(bare):
            yield m.start("v"), m.start("v") + len(value)
    for m in _HASH_NUMBER.finditer(text):
        value = m.group("v").rstrip("-")
        hex_colour = len(value) in (3, 6) and re.fullmatch(r"[0-9A-Fa-f]+", value) and not value.isdigit()
        if len(digits_of(value)) >= 5 and not hex_colour:
            yield m.start("v"), m.start("v") + len(value)
    for m in _AMAZON_ORDER.finditer(text):
        yield m.span()


_ACCOUNT = _keyed(
    ["account", "acct", "a/c", "customer", "member", "membership", "user id", "userid", "loyalty", "subscriber",
     "policy", "contract", "số tài khoản", "tài khoản", "stk", "mã khách hàng", "mã thành viên", "mã hội viên",
     "số hợp đồng"],
    ["账号", "账户", "帐号", "帐户", "会员号", "会员卡号", "客户号", "客户编号", "户号"],
    r"[A-Za-z]{0,4}-?[0-9][A-Za-z0-9]{0,30}(?:[ -][0-9]{1,8}){0,6}",
)


def account_numbers(text: str) -> Iterator[Span]:
    if not has_digit(text):
        return
    for m in _ACCOUNT.finditer(text):
        value = m.group("v")
        if len(digits_of(value)) >= 5 and not _is_date(value):
            yield m.span("v")
