"""Topic agreement: what a text is about (products, devices, error codes,
intents) and what it refuses ("not a refund", "I don't want to cancel").

A past reply whose ticket names another product, another error code or another intent than this
ticket answers another problem: it is not reused. A sentence about an intent this ticket refuses
is never said. Seed lists: ``copilot/defaults/topics.yaml`` (intents, refusals) and
``copilot/defaults/leftovers.yaml`` (products, case objects).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from copilot.checks.leftovers import seeds

__all__ = ["Topics", "conflict", "topics"]

# Error codes: "CE-34878-0", "0x80070005", "error 404", "code 1001", "NW-31201-7".
_CODE = re.compile(r"\b[A-Z]{1,4}-\d{3,}(?:-\d+)?\b|\b0x[0-9A-Fa-f]{4,}\b|(?i:\b(?:error|code)\s*#?\s*(\d{2,}|[A-Z]+\d+)\b)")
_URL = re.compile(r"https?://\S+|@\w+")


@dataclass(frozen=True)
class _IntentSeeds:
    words: dict[str, re.Pattern[str]]
    refusals: dict[str, re.Pattern[str]]
    devices: tuple[re.Pattern[str], ...]
    context: frozenset[str]


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_HAN = re.compile(r"[\u4e00-\u9fff]")


def _words_pattern(words: list[str]) -> str:
    """Whole words for alphabetic scripts; Chinese has no spaces, so its words match anywhere."""
    han = [w for w in words if _HAN.search(w)]
    latin = [w for w in words if not _HAN.search(w)]
    parts = ([rf"(?<!\w)(?:{_alternation(latin)})(?!\w)"] if latin else []) + ([_alternation(han)] if han else [])
    return "|".join(parts)


@lru_cache(maxsize=1)
def _intent_seeds() -> _IntentSeeds:
    raw = yaml.safe_load(resources.files("copilot.defaults").joinpath("topics.yaml").read_text(encoding="utf-8"))
    words: dict[str, re.Pattern[str]] = {}
    refusals: dict[str, re.Pattern[str]] = {}
    for intent, items in raw["intents"].items():
        words[intent] = re.compile(_words_pattern([str(w) for w in items]), re.I)
        alt = _alternation([str(w) for w in items])
        refusals[intent] = re.compile("|".join(str(r).replace("{intent}", f"(?:{alt})") for r in raw["refusals"]), re.I)
    wanted = {str(d).lower() for d in raw["devices"]}
    seed = seeds()
    devices = tuple(g for g, (names, _) in zip(seed.groups, seed.objects, strict=True) if names[0].lower() in wanted)
    return _IntentSeeds(words, refusals, devices, frozenset(str(i) for i in raw["context_intents"]))


@dataclass(frozen=True)
class Topics:
    intents: frozenset[str]
    refused: frozenset[str]
    products: frozenset[str]
    devices: frozenset[int]     # device groups (topics.yaml, from leftovers.yaml's case objects), by position
    codes: frozenset[str]


def _norm_product(p: str) -> str:
    return re.sub(r"[\s-]+", "", p.lower())


@lru_cache(maxsize=4096)
def topics(text: str) -> Topics:
    text = _URL.sub(" ", text)
    s = _intent_seeds()
    refused = frozenset(i for i, p in s.refusals.items() if p.search(text))
    intents = frozenset(i for i, p in s.words.items() if p.search(text)) - refused
    seed = seeds()
    products = frozenset(_norm_product(m.group(0)) for m in seed.products.finditer(text))
    devices = frozenset(i for i, p in enumerate(s.devices) if p.search(text))
    codes = frozenset(m.group(0).lower() for m in _CODE.finditer(text))
    return Topics(intents, refused, products, devices, codes)


def conflict(ticket: Topics, other: Topics, *, broad: bool = False) -> str | None:
    """Why a past ticket (its customer's words), or an article (its title), is about another problem
    than this ticket, if it is. A ``broad`` source (an article, whose title may name several intents)
    conflicts only when it names none of the ticket's intents."""
    if ticket.codes and other.codes and not ticket.codes & other.codes:
        return "error code"
    if ticket.products and other.products and not ticket.products & other.products:
        return "product"
    if ticket.devices and other.devices and not ticket.devices & other.devices:
        return "device"
    if ticket.intents and other.intents and not ticket.intents & other.intents:
        return "intent"
    if not broad and ticket.intents and other.intents - ticket.intents - _intent_seeds().context:
        # The other customer asked about something this one did not ("cancel" on a price question).
        return "intent"
    if ticket.refused & other.intents:
        return "refused intent"
    return None
