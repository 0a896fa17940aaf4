"""Is this a person's name? The customer's name goes into the greeting of a reply, so whatever a
helpdesk, an API client or an attacker put in ``customer_name`` ("Maria — your $500 refund is
ready at https://evil.example/claim") must be a plausible name or it is not used at all.

A plausible name: at most 60 characters and five words; letters of any script (with their
combining marks), spaces, hyphens, apostrophes and an initial's period; no digits, URLs, symbols,
control or invisible characters; and no word that only a sentence would use ("your", "refund",
"click", "bạn", "您的"...). Checked by character class, in linear time.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_NAME_CHARS", "plausible_name"]

MAX_NAME_CHARS = 60
MAX_NAME_WORDS = 5
# A run of Han characters longer than this is a phrase, not a name (Chinese names have 2-4).
MAX_HAN_RUN = 6
_APOSTROPHES = "'’ʼ"
_HYPHENS = "-‐‑"
_DOTS = "·・"  # the middle dots of transliterated names (约翰·史密斯)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
# Words of sentences, not of names, in the languages we serve (lower-cased).
# Words of sentences, not of names, in the languages we serve (lower-cased). Vietnamese: only
# syllables that are not also given names (Hoàn, Tiền, Quý and Tài are names).
_SENTENCE_WORDS = frozenset([
    "a", "an", "the", "your", "you", "yours", "our", "we", "is", "are", "was", "be", "been", "am", "to", "at",
    "in", "on", "of", "for", "from", "with", "by", "and", "or", "but", "if", "this", "that", "here", "there",
    "now", "click", "visit", "call", "send", "email", "e-mail", "reply", "please", "dear", "hi", "hello", "hey",
    "thanks", "thank", "refund", "refunds", "ready", "claim", "free", "win", "winner", "won", "prize", "money",
    "cash", "gift", "voucher", "code", "password", "account", "verify", "login", "link", "order", "ticket",
    "customer", "support", "team", "admin", "administrator", "system", "assistant", "bot", "ignore",
    "instructions", "bạn", "của", "là", "tại", "hãy", "vui", "lòng", "nhận", "khách", "chào", "cảm", "ơn", "mật",
    "khẩu", "khoản",
])
_HAN_SENTENCE = re.compile(r"您|你的|的|请|退款|点击|链接|密码|账户|领取|客服|系统|忽略|指令|优惠")


def plausible_name(value: str | None) -> str | None:
    """The name, tidied (NFC, single spaces), when it is plausible; otherwise None."""
    if value is None:
        return None
    name = " ".join(unicodedata.normalize("NFC", value).split())
    if not name or len(name) > MAX_NAME_CHARS:
        return None
    words = name.split(" ")
    if len(words) > MAX_NAME_WORDS:
        return None
    for ch in name:
        if ch == " " or ch in _APOSTROPHES or ch in _HYPHENS or ch in _DOTS:
            continue
        cat = unicodedata.category(ch)
        if cat.startswith("L") or cat in {"Mn", "Mc"}:
            continue
        if ch == ".":
            continue  # initials; checked below
        return None
    for w in words:
        core = w.strip(_APOSTROPHES + _HYPHENS + ".")
        if not core or not unicodedata.category(core[0]).startswith("L"):
            return None
        if "." in w and not re.fullmatch(r"[^\W\d_]{1,3}\.", w):
            return None  # "J." is an initial; "evil.example" is not a name
        if w.lower().strip(_APOSTROPHES) in _SENTENCE_WORDS:
            return None
    if any(len(run) > MAX_HAN_RUN for run in _HAN.findall(name)) or _HAN_SENTENCE.search(name):
        return None
    return name
