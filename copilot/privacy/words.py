"""The word lists behind name detection (``copilot/defaults/pii_words.yaml``), loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from copilot.errors import ConfigError

__all__ = ["Words", "words"]

_FILE = "pii_words.yaml"


@dataclass(frozen=True)
class Words:
    surnames_single: frozenset[str]
    surnames_compound: frozenset[str]
    chinese_name_stops: frozenset[str]
    chinese_not_names: frozenset[str]
    not_names: frozenset[str]
    organisation_words: frozenset[str]
    mail_providers: frozenset[str]


def _split(raw: Any, field: str) -> list[str]:
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return list(raw)
    raise ConfigError(f"{field} must be a list of words or one string of words",
                      where=f"copilot/defaults/{_FILE}:{field}", hint="write the words separated by spaces")


@lru_cache(maxsize=1)
def words() -> Words:
    data = yaml.safe_load(resources.files("copilot.defaults").joinpath(_FILE).read_text(encoding="utf-8"))
    surnames = data["chinese_surnames"]
    single = "".join(_split(surnames["single"], "chinese_surnames.single"))
    return Words(
        surnames_single=frozenset(single),
        surnames_compound=frozenset(_split(surnames["compound"], "chinese_surnames.compound")),
        chinese_name_stops=frozenset("".join(_split(data["chinese_name_stops"], "chinese_name_stops"))),
        chinese_not_names=frozenset(_split(data["chinese_not_names"], "chinese_not_names")),
        not_names=frozenset(w.lower() for w in _split(data["not_names"], "not_names")),
        organisation_words=frozenset(w.lower() for w in _split(data["organisation_words"], "organisation_words")),
        mail_providers=frozenset(w.lower() for w in _split(data["mail_providers"], "mail_providers")),
    )
