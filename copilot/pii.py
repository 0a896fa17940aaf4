"""PII redaction with typed placeholders.

Runs before anything is embedded or stored, and on outbound text. Patterns
are deliberately conservative about what they call a number (Luhn for cards,
a keyword for order/account numbers) so product codes and amounts survive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["ALL_KINDS", "ARTICLE_KINDS", "PLACEHOLDER_RE", "Redaction", "redact", "restore"]

PLACEHOLDER_RE = re.compile(r"\[(EMAIL|PHONE|CARD_NUMBER|ADDRESS|ORDER_NUMBER|ACCOUNT_NUMBER|NAME|HANDLE|URL_TOKEN)(?:_\d+)?\]")

_NUMBERED = re.compile(r"\[(EMAIL|PHONE|CARD_NUMBER|ADDRESS|ORDER_NUMBER|ACCOUNT_NUMBER|NAME|HANDLE)_\d+\]")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_ORDER = re.compile(
    r"(?i)((?:order|purchase|invoice|tracking|booking|confirmation|ticket|case)\s*(?:number|no\.?|num|id|#)?\s*[:#]?\s*"
    r"|(?:đơn hàng|mã đơn(?: hàng)?|mã vận đơn)\s*(?:số)?\s*[:#]?\s*"
    r"|(?:订单号?|单号|运单号)\s*[:：#]?\s*)"
    r"(#?[A-Z0-9][A-Z0-9-]{3,}\d[A-Z0-9-]*|#?\d{4,})"
)
_ACCOUNT = re.compile(
    r"(?i)((?:account|acct|iban|customer|member(?:ship)?)\s*(?:number|no\.?|num|id|#)?\s*[:#]?\s*"
    r"|(?:số tài khoản|tài khoản)\s*(?:số)?\s*[:#]?\s*"
    r"|(?:账号|账户|帐号|会员号)\s*[:：#]?\s*)"
    r"([A-Z]{0,4}\d[\d -]{4,}\d)"
)
_PHONE = re.compile(
    r"(?<![A-Za-z0-9.+-])(?:(?:\+\d{1,3}|\d)[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,4}(?![A-Za-z0-9]|\.\d)"
)
_NOT_PHONE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,3}(?:\.\d{1,3}){3}")
ALL_KINDS = frozenset({"EMAIL", "CARD_NUMBER", "ORDER_NUMBER", "ACCOUNT_NUMBER", "ADDRESS", "PHONE", "NAME", "HANDLE"})
# Articles are published company content: their support phone and e-mail are
# the point, so only identifiers of a customer are removed from them.
ARTICLE_KINDS = frozenset({"CARD_NUMBER", "ORDER_NUMBER", "ACCOUNT_NUMBER"})
_STREET = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
    r"highway|hwy|square|sq|parkway|pkwy)"
)
_ADDRESS = re.compile(
    rf"(?i)\b\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][\w'-]*\s+){{0,4}}{_STREET}\.?(?:\s*,?\s*(?:apt|suite|unit|#)\s*\w+)?\b"
    r"|(?:số\s+)?\d{1,5}[A-Za-z]?(?:/\d+)?\s+(?:đường|phố)\s+[\wÀ-ỹ ]{2,30}?(?=[,.;\n]|$)"
    r"|[\u4e00-\u9fff]{2,10}(?:路|街|大道)\d{1,5}号(?:[\u4e00-\u9fff\d]{0,10}(?:室|楼|单元))?"
)
_GREETING_NAME = re.compile(
    r"(?i)\b(hi|hello|hey|dear|thanks|thank you|cheers|chào|xin chào|kính gửi|cảm ơn)\s+"
    r"(?!there\b|team\b|all\b|everyone\b|again\b|so\b|for\b|you\b|bạn\b|anh\b|chị\b|quý\b)"
    r"([A-Z][a-zà-ỹ'-]+(?:\s+[A-Z][a-zà-ỹ'-]+)?)(?=\s*[,!.\n])"
)
_HANDLE = re.compile(r"(?<![\w@])@\w{2,}")


@dataclass
class Redaction:
    text: str
    # placeholder -> original value, for restoring outbound replies.
    entities: dict[str, str] = field(default_factory=dict)

    @property
    def plain_text(self) -> str:
        """The text with ``[EMAIL]``-style placeholders, from a numbered redaction."""
        return _NUMBERED.sub(r"[\1]", self.text)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for ph in self.entities:
            kind = PLACEHOLDER_RE.fullmatch(ph)
            key = kind.group(1) if kind else ph
            out[key] = out.get(key, 0) + 1
        return out


def _luhn_ok(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        alt = not alt
    return total % 10 == 0


class _Replacer:
    def __init__(self, numbered: bool) -> None:
        self.numbered = numbered
        self.entities: dict[str, str] = {}
        self._seen: dict[tuple[str, str], str] = {}
        self._n: dict[str, int] = {}

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key in self._seen:
            return self._seen[key]
        if self.numbered:
            self._n[kind] = self._n.get(kind, 0) + 1
            ph = f"[{kind}_{self._n[kind]}]"
        else:
            ph = f"[{kind}]"
        self._seen[key] = ph
        self.entities.setdefault(ph, value)
        return ph


def redact(text: str, *, numbered: bool = False, kinds: frozenset[str] = ALL_KINDS) -> Redaction:
    """Replace personal data with typed placeholders such as ``[EMAIL]``.

    ``numbered=True`` gives ``[EMAIL_1]``-style placeholders whose originals
    are kept in ``entities`` so a reply can be restored on the way back.
    """
    r = _Replacer(numbered)
    out = text
    if "EMAIL" in kinds:
        out = _EMAIL.sub(lambda m: r.placeholder("EMAIL", m.group(0)), out)

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            return r.placeholder("CARD_NUMBER", m.group(0))
        return m.group(0)

    if "CARD_NUMBER" in kinds:
        out = _CARD.sub(card, out)
    if "ORDER_NUMBER" in kinds:
        out = _ORDER.sub(lambda m: m.group(1) + r.placeholder("ORDER_NUMBER", m.group(2)), out)
    if "ACCOUNT_NUMBER" in kinds:
        out = _ACCOUNT.sub(lambda m: m.group(1) + r.placeholder("ACCOUNT_NUMBER", m.group(2)), out)
    if "ADDRESS" in kinds:
        out = _ADDRESS.sub(lambda m: r.placeholder("ADDRESS", m.group(0)), out)

    def phone(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        # Below 8 digits it is far more often a year, an amount or a code.
        if not 8 <= len(digits) <= 15 or _NOT_PHONE.fullmatch(m.group(0).strip()):
            return m.group(0)
        return r.placeholder("PHONE", m.group(0))

    if "PHONE" in kinds:
        out = _PHONE.sub(phone, out)
    if "NAME" in kinds:
        out = _GREETING_NAME.sub(lambda m: f"{m.group(1)} {r.placeholder('NAME', m.group(2))}", out)
    if "HANDLE" in kinds:
        out = _HANDLE.sub(lambda m: r.placeholder("HANDLE", m.group(0)), out)
    return Redaction(out, r.entities)


def restore(text: str, entities: dict[str, str]) -> str:
    """Put the originals back for placeholders produced by ``redact(numbered=True)``."""
    for ph, value in entities.items():
        text = text.replace(ph, value)
    return text
