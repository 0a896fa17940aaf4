"""What every detector shares: spans, the folded text they search, and the character classes.

Detectors search a *folded* copy of the text in which full-width forms (``＠``, ``１３８``, ``．``)
are their ASCII twins. Folding maps one character to one character, so a span found in the folded
copy is the same span in the original.

Every pattern in this package must run in linear time on any input: each repetition is bounded
(``{m,n}``), and repeated parts cannot match the same characters in two ways. A test walks every
compiled pattern to enforce the first rule, and times each detector on adversarial input.

Speed: Python's regex engine skips ahead quickly only when a pattern starts with a plain set of
characters. A pattern that starts with a lookbehind or a case-insensitive group is tried at every
position (5-10 times slower), so patterns here start with a lookahead for their first character
(``(?=[0-9])``, or what ``keywords`` builds).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

__all__ = ["CJK", "LATIN", "Finder", "Keyed", "Span", "before", "digits_of", "fold", "has_cjk", "has_digit", "keywords",
           "lowered", "needles"]

Span = tuple[int, int]
Finder = Callable[[str], Iterator[Span]]

_FOLD = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20, 0xFE6B: ord("@")}

# Latin letters with the accents of Vietnamese and European names, and combining marks (text
# pasted from some systems keeps "ễ" as "e" plus two marks).
LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff\u0300-\u036f"
CJK = "\u4e00-\u9fff\u3400-\u4dbf"


def fold(text: str) -> str:
    return text.translate(_FOLD)


def before(text: str, start: int, width: int = 32) -> str:
    """The lower-cased text just before ``start``: the context a keyword must appear in."""
    return text[max(0, start - width) : start].lower()


_NOT_DIGIT = re.compile(r"[^0-9]")
_DIGIT = re.compile(r"[0-9]")


def digits_of(value: str) -> str:
    return _NOT_DIGIT.sub("", value)


_CJK_CHAR = re.compile(f"[{CJK}]")


def has_digit(text: str) -> bool:
    """Most detectors need a digit: a text without one is skipped at once."""
    return _DIGIT.search(text) is not None


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


@lru_cache(maxsize=4)
def lowered(text: str) -> str:
    """``text.lower()``, computed once for all the detectors that look for keywords in one text."""
    return text.lower()


def keywords(latin: Iterable[str] = (), other: Iterable[str] = ()) -> str:
    """A regex alternation of keywords led by a lookahead for their first characters. Latin
    keywords match in any case and only as whole words; the others (Chinese) match anywhere."""
    latin, other = sorted(latin, key=len, reverse=True), sorted(other, key=len, reverse=True)
    first = {c for w in latin for c in (w[0].lower(), w[0].upper())} | {w[0] for w in other}
    alternatives = []
    if latin:
        words = "|".join(re.escape(w).replace(r"\ ", r"\s") for w in latin)
        alternatives.append(f"(?<![{LATIN}])(?i:{words})(?![{LATIN}])")
    alternatives += [re.escape(w) for w in other]
    return f"(?=[{re.escape(''.join(sorted(first)))}])(?:{'|'.join(alternatives)})"


class Keyed:
    """A pattern led by ``keywords(latin, other)``; a text that holds none of the keywords is
    skipped with a substring test instead of a regex scan."""

    def __init__(self, latin: Iterable[str], other: Iterable[str], rest: str) -> None:
        latin, other = list(latin), list(other)
        self.pattern = re.compile(keywords(latin, other) + rest)
        self._needles = needles({w.split()[0].lower() for w in latin} | set(other))

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self._needles.search(lowered(text)):
            yield from self.pattern.finditer(text)


def needles(strings: Iterable[str]) -> re.Pattern[str]:
    """One literal alternation: finds any of ``strings`` far faster than a loop of ``in`` tests."""
    return re.compile("|".join(re.escape(s) for s in sorted(strings, key=len, reverse=True)))
