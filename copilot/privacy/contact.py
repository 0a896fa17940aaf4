"""Ways to reach a person: e-mail addresses, phone numbers, social handles and IP addresses."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from functools import lru_cache

from copilot.privacy.spans import CJK, LATIN, Span, before, digits_of, has_digit, lowered, needles
from copilot.privacy.words import words

__all__ = ["emails", "handles", "ip_addresses", "phones"]

# --- e-mail -------------------------------------------------------------------------------------
# Written addresses, including internationalised domains ("bücher.de", "公司.中国") and addresses
# glued to Chinese text ("邮箱是wang@qq.com谢谢": the local part cannot hold Han characters, and a
# Latin top-level domain ends where the Han text starts). The scan starts at each "@" (or spelled
# "at") followed by a domain, then reads the local part backwards: a pattern that starts at every
# letter and runs on to look for an "@" is what made the old one quadratic.
_LOCAL = f"{LATIN}0-9_%+'"  # and "-", written last in each class so it is not a range
_LABEL = f"[{LATIN}0-9{CJK}](?:[{LATIN}0-9{CJK}-]{{0,61}}[{LATIN}0-9{CJK}])?"
_TLD = (f"(?:xn--[A-Za-z0-9-]{{1,59}}|[A-Za-z]{{2,24}}|中国|中國|公司|网络|網絡|香港|台湾|台灣|新加坡|在线|集团|商城|网址)"
        f"(?![{LATIN}0-9-])")
_AT_DOMAIN = re.compile(rf"@(?:{_LABEL}\.){{1,8}}{_TLD}")
# The local part, read backwards from the "@" on the reversed text.
_LOCAL_REVERSED = re.compile(f"[{_LOCAL}.-]{{1,64}}")

# Spelled-out addresses: "jane (at) example (dot) com", "jane[at]example.com", "jane @ example.com",
# "jane.doe at gmail dot com", "jane a còng gmail chấm com".
_DOT = r"(?:\s{0,2}[(\[{<]\s{0,2}(?i:dot|\.)\s{0,2}[)\]}>]\s{0,2}|\s{1,3}(?i:dot|chấm|cham)\s{1,3}|\.)"
_DOT_REVERSED = r"(?:\s{0,2}[)\]}>]\s{0,2}(?i:tod|\.)\s{0,2}[(\[{<]\s{0,2}|\s{1,3}(?i:tod|mấhc|mahc)\s{1,3}|\.)"
_SPELLED_AT_DOMAIN = re.compile(
    r"(?=[ \t(\[{<])(?:[(\[{<] ?(?:at|AT|At|@) ?[)\]}>]|[ \t]{1,3}@[ \t]{1,3}|[ \t]{1,3}[aA] c(?:ò|o)ng[ \t]{1,3}"
    r"|(?P<bare>[ \t]{1,3}(?:at|AT|At)[ \t]{1,3}))"
    rf"\s{{0,2}}(?P<d>(?:{_LABEL}{_DOT}){{1,6}}{_TLD})"
)
_SPELLED_LOCAL_REVERSED = re.compile(rf"\s{{0,2}}[{_LOCAL}-]{{1,64}}(?:{_DOT_REVERSED}[{_LOCAL}-]{{1,64}}){{0,3}}")
_SPELLED_DOT = re.compile(r"[.(\[{<]|\s(?i:dot|chấm|cham)\s")
_SPELLED_NEEDLES = needles(["at", " @", "@ ", "còng", "cong"])
_LOCAL_WINDOW = 90
_GENERIC_TLDS = frozenset({"com", "net", "org", "edu", "gov", "info", "biz", "io", "app", "dev", "vn", "cn"})


def emails(text: str) -> Iterator[Span]:
    if "@" in text:
        for m in _AT_DOMAIN.finditer(text):
            local = _local_before(_LOCAL_REVERSED, text, m.start(), 64)
            if local:
                yield m.start() - len(local), m.end()
    if not _SPELLED_NEEDLES.search(lowered(text)):
        return
    for m in _SPELLED_AT_DOMAIN.finditer(text):
        local = _local_before(_SPELLED_LOCAL_REVERSED, text, m.start(), _LOCAL_WINDOW)
        if local and (m.group("bare") is None or _clearly_an_address(local.strip(), m.group("d"))):
            yield m.start() - len(local.lstrip()), m.end()


def _local_before(reversed_pattern: re.Pattern[str], text: str, end: int, window: int) -> str:
    """The longest local part that ends at ``end`` (matched on the reversed window: one attempt)."""
    m = reversed_pattern.match(text[max(0, end - window) : end][::-1])
    return m.group(0)[::-1] if m else ""


def _clearly_an_address(local: str, domain: str) -> bool:
    """ "jane.doe at gmail dot com" is an address; "bought it at amazon.com" and "mad at me.please"
    are not: the domain must end in a country code or a common generic one, and the local part must
    look like one (digits, dots, underscores) or the domain be a mail provider's."""
    w = words()
    parts = re.split(r"\s{0,2}[.(\[{<)\]}>]\s{0,2}|\s(?i:dot|chấm|cham)\s", domain.strip())
    labels = [p.lower() for p in parts if p and p.lower() != "dot"]
    if local.lower() in w.not_names or not labels or not (len(labels[-1]) == 2 or labels[-1] in _GENERIC_TLDS):
        return False
    return bool(re.search(r"[0-9_]", local) or _SPELLED_DOT.search(local)) or labels[0] in w.mail_providers


# --- phone numbers ------------------------------------------------------------------------------
# Candidates are digit groups with the separators people use (spaces, dots, dashes, slashes,
# brackets). A group takes all the digits it can and nothing follows the repetition that could
# fail, so the engine never tries other ways to split a run of digits.
_GROUP = r"(?:\(\s?[0-9]{1,4}\s?\)|[0-9]{1,15})"
_PHONE = re.compile(rf"(?=[0-9(+])(?<![{LATIN}0-9_.,/+#@$€£¥-])(?:\+\s?|00)?{_GROUP}(?:[ \t./-]{{0,2}}{_GROUP}){{0,7}}")
_PHONE_WORDS = re.compile(
    r"phone|call|tel\b|mobile|cell|whats ?app|zalo|viber|hotline|sms|\btext\b|\bring\b|dial|reach me|contact"
    r"|điện thoại|đt\b|sđt|sdt|gọi|liên hệ|số máy|máy bàn|nhắn"
    r"|电话|手机|号码|联系|致电|拨打|座机|微信"
)
_CURRENCY_BEFORE = re.compile(r"(?:[$€£¥₫]|usd|vnd|eur|rmb|hk\$)\s{0,2}$")
_CURRENCY_AFTER = re.compile(r"\s{0,2}(?:[đ₫元块円]|vnd|vnđ|usd|eur|gbp|cny|rmb|hkd|sgd|đồng|dong|triệu|tr\b)")
_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(?:([.,])[0-9]{3})(?:\1[0-9]{3}){0,4}")
_DATE = re.compile(r"(?:19|20)[0-9]{2}[-./]?[01][0-9][-./]?[0-3][0-9]|[0-3]?[0-9][-./][0-3]?[0-9][-./](?:19|20)?[0-9]{2}")
_VERSION_WORDS = re.compile(r"(?:\bv|version|ver\.?|build|firmware|ios|android|windows|phiên bản|版本)\s{0,2}$")
# Where the customer's country is unknown, a number counts as a phone number when it is valid in
# one of these (the markets this project serves first, and the two most common in English).
PHONE_REGIONS = ("VN", "CN", "US", "GB", "HK", "SG")
_MAX_LIBRARY_CHECKS = 64  # per text, so hostile input cannot make it slow: past this, 8-9 digits are kept


def phones(text: str) -> Iterator[Span]:
    if not has_digit(text):
        return
    budget = _MAX_LIBRARY_CHECKS
    for m in _PHONE.finditer(text):
        s, e = m.span()
        value = m.group(0)
        digits = digits_of(value)
        if not 7 <= len(digits) <= 15 or (e < len(text) and text[e].isalnum() and text[e].isascii()):
            continue
        ctx = before(text, s)
        if value.startswith("+") or (value.startswith("00") and len(digits) >= 10):
            if len(digits) >= 8:
                yield s, e
            continue
        if _looks_like_something_else(text, s, e, value, ctx):
            continue
        if _PHONE_WORDS.search(ctx):
            yield s, e
            continue
        # Ten digits or more: a phone number from somewhere (an Indian mobile, say) or an id, and
        # redacting an id costs little. Eight or nine: only where a numbering plan says it is one,
        # so dates ("20240315"), amounts and short references survive.
        if len(digits) >= 10:
            yield s, e
        elif len(digits) >= 8 and budget > 0:
            budget -= 1
            if _valid_somewhere(digits):
                yield s, e


def _looks_like_something_else(text: str, s: int, e: int, value: str, ctx: str) -> bool:
    """An amount, a date, a version or an IP address."""
    if _CURRENCY_BEFORE.search(ctx) or _CURRENCY_AFTER.match(text[e : e + 8].lower()) or _THOUSANDS.fullmatch(value):
        return True
    if _DATE.fullmatch(value) or _IPV4.fullmatch(value):
        return True
    if "/" in value and any(c in value for c in " .-"):
        return True  # "125-135/85-95": ranges and fractions, not a number written with one separator
    groups = value.split(".")
    return bool(_VERSION_WORDS.search(ctx[-16:])) or (len(groups) >= 3 and any(len(g) == 1 for g in groups[1:]))


@lru_cache(maxsize=4096)
def _valid_somewhere(digits: str) -> bool:
    import phonenumbers  # on first use: it loads its metadata then, and most texts never need it

    for region in PHONE_REGIONS:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(digits, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


# --- social handles -----------------------------------------------------------------------------
_HANDLE = re.compile(r"@(?<![\w@.].)\w{2,30}(?:\.\w{1,30}){0,2}")


def handles(text: str) -> Iterator[Span]:
    if "@" not in text:
        return
    for m in _HANDLE.finditer(text):
        yield m.span()


# --- IP addresses -------------------------------------------------------------------------------
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?=[0-9])(?<![0-9.]){_OCTET}(?:\.{_OCTET}){{3}}(?![0-9]|\.[0-9])")
_IPV6 = re.compile(r"(?=[0-9A-Fa-f:])(?<![0-9A-Za-z:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Za-z])")
# Addresses that name a customer's own network, not the customer: the same in millions of homes,
# and support replies need them ("open 192.168.1.1"). Everything else is redacted, documentation
# ranges included (they stand for real addresses in examples).
_LOCAL_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "255.0.0.0/8",
    "::/127", "fe80::/10", "fc00::/7",
))


# Public services everyone types when troubleshooting ("ping 8.8.8.8"): nobody's address.
_PUBLIC_SERVICES = frozenset({
    "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112", "208.67.222.222", "208.67.220.220",
    "2001:4860:4860::8888", "2001:4860:4860::8844", "2606:4700:4700::1111", "2606:4700:4700::1001",
})


def ip_addresses(text: str) -> Iterator[Span]:
    if not has_digit(text):
        return
    for m in _IPV4.finditer(text):
        # "4.2.3.4" with only one-digit parts is a section or version number far more often.
        section = len(m.group(0)) == 7
        if not section and not _VERSION_WORDS.search(before(text, m.start(), 16)) and _personal(m.group(0)):
            yield m.span()
    for m in _IPV6.finditer(text) if "::" in text or text.count(":") >= 7 else ():
        if m.group(0).count(":") >= 2 and _personal(m.group(0)):
            yield m.span()


def _personal(value: str) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    if value in _PUBLIC_SERVICES:
        return False
    return not any(ip in net for net in _LOCAL_NETWORKS if net.version == ip.version)
