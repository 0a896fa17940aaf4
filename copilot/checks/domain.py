"""Messages about another company's product: the brand's sources cannot answer them.

"How do I reset my Gmail password?" retrieves the shop's own password article, and a drafter answers
it confidently: an answer to another question. A message naming a product or service of another
company (seed lists: ``copilot/defaults/other_products.yaml`` and the products of ``leftovers.yaml``)
that none of the reply's cited sources mentions is out of the brand's domain; the check stage flags
it ``out_of_domain`` and ``low_confidence`` so the agent never sees it as a confident draft.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import yaml

from copilot.checks.leftovers import seeds

__all__ = ["named_products", "unaddressed_products"]

_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    raw = yaml.safe_load(resources.files("copilot.defaults").joinpath("other_products.yaml").read_text(encoding="utf-8"))
    names = sorted({str(n) for n in raw["names"]}, key=len, reverse=True)
    latin = "|".join(re.escape(n) for n in names if not _CJK.search(n))
    # Chinese runs words together: a name matches anywhere.
    cjk = "|".join(re.escape(n) for n in names if _CJK.search(n))
    return re.compile(rf"(?<!\w)(?:{latin})(?!\w)", re.I), re.compile(cjk)


def named_products(text: str) -> list[str]:
    """Other companies' products and services the text names (lower-cased, in order, once each)."""
    latin, cjk = _patterns()
    found = [m.group(0) for p in (latin, cjk, seeds().products) for m in p.finditer(text)]
    return list(dict.fromkeys(f.lower() for f in found))


def unaddressed_products(message: str, sources: Iterable[str]) -> list[str]:
    """The products the message names that no source mentions."""
    named = named_products(message)
    if not named:
        return []
    said = "\n".join(sources)
    return [n for n in named if not re.search(rf"(?<!\w){re.escape(n)}(?!\w)" if not _CJK.search(n) else re.escape(n),
                                              said, re.I)]
