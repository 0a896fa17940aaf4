"""Personal data -> typed placeholders, and back.

Every detector searches the whole (folded) text for its kind and returns spans; overlapping spans
are merged into one, named for the stronger kind (a card number is a card number even where the
phone detector also saw digits), so nothing is left half-redacted. Redaction runs before anything
is embedded or stored, and on what leaves the machine for an LLM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.privacy.contact import emails, handles, ip_addresses, phones
from copilot.privacy.identifiers import (
    account_numbers,
    cards,
    dates_of_birth,
    ibans,
    national_ids,
    order_numbers,
    passports,
)
from copilot.privacy.people import addresses, names
from copilot.privacy.spans import Finder, fold

__all__ = ["ALL_KINDS", "ARTICLE_KINDS", "DETECTORS", "PLACEHOLDER_RE", "Redaction", "find_spans", "redact", "restore"]

# Strongest first: where spans of two kinds overlap, the merged span takes the first kind here.
# Checksums with a fixed shape (resident ids, IBANs with their country code) outrank a card's Luhn
# digit, which one number in ten passes by chance.
DETECTORS: dict[str, Finder] = {
    "NATIONAL_ID": national_ids,
    "IBAN": ibans,
    "CARD_NUMBER": cards,
    "PASSPORT": passports,
    "DATE_OF_BIRTH": dates_of_birth,
    "EMAIL": emails,
    "IP_ADDRESS": ip_addresses,
    "ACCOUNT_NUMBER": account_numbers,
    "ORDER_NUMBER": order_numbers,
    "PHONE": phones,
    "ADDRESS": addresses,
    "NAME": names,
    "HANDLE": handles,
}
_RANK = {kind: i for i, kind in enumerate(DETECTORS)}
ALL_KINDS = frozenset(DETECTORS)
# Articles are published company content: their support phone, e-mail, address and handles are
# the point, so only what identifies a customer is removed from them.
ARTICLE_KINDS = frozenset({"CARD_NUMBER", "IBAN", "NATIONAL_ID", "PASSPORT", "DATE_OF_BIRTH", "ORDER_NUMBER",
                           "ACCOUNT_NUMBER"})

# URL_TOKEN is not produced here; other parts of the product write it for secrets in links.
_KIND_ALTERNATION = "|".join(sorted([*DETECTORS, "URL_TOKEN"], key=len, reverse=True))
PLACEHOLDER_RE = re.compile(rf"\[({_KIND_ALTERNATION})(?:_\d{{1,6}})?\]")
_NUMBERED = re.compile(rf"\[({'|'.join(sorted(DETECTORS, key=len, reverse=True))})_\d{{1,6}}\]")


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


def find_spans(text: str, kinds: frozenset[str] = ALL_KINDS) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, kind)`` of the personal data in ``text``, in order."""
    folded = fold(text)
    found = [(s, e, kind) for kind, finder in DETECTORS.items() if kind in kinds for s, e in finder(folded) if e > s]
    found.sort(key=lambda t: (t[0], -t[1]))
    merged: list[tuple[int, int, str]] = []
    for s, e, kind in found:
        if merged and s < merged[-1][1]:
            ps, pe, pk = merged[-1]
            merged[-1] = (ps, max(pe, e), pk if _RANK[pk] <= _RANK[kind] else kind)
        else:
            merged.append((s, e, kind))
    return merged


def redact(text: str, *, numbered: bool = False, kinds: frozenset[str] = ALL_KINDS) -> Redaction:
    """Replace personal data with typed placeholders such as ``[EMAIL]``.

    ``numbered=True`` gives ``[EMAIL_1]``-style placeholders whose originals are kept in
    ``entities`` so a reply can be restored on the way back; the same value always gets the same
    placeholder.
    """
    entities: dict[str, str] = {}
    seen: dict[tuple[str, str], str] = {}
    counter: dict[str, int] = {}
    parts: list[str] = []
    last = 0
    for s, e, kind in find_spans(text, kinds):
        value = text[s:e]
        ph = seen.get((kind, value))
        if ph is None:
            counter[kind] = counter.get(kind, 0) + 1
            ph = f"[{kind}_{counter[kind]}]" if numbered else f"[{kind}]"
            seen[(kind, value)] = ph
            entities.setdefault(ph, value)
        parts += [text[last:s], ph]
        last = e
    parts.append(text[last:])
    return Redaction("".join(parts), entities)


def restore(text: str, entities: dict[str, str]) -> str:
    """Put the originals back for placeholders produced by ``redact(numbered=True)``."""
    if not entities:
        return text
    return PLACEHOLDER_RE.sub(lambda m: entities.get(m.group(0), m.group(0)), text)
