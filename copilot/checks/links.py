"""Links and e-mail addresses in a reply may only point at domains the brand or a cited source uses."""

from __future__ import annotations

import re
from collections.abc import Iterable

from copilot.text import filter_sentences

__all__ = ["domains_of", "strip_unknown_links"]

_URL = re.compile(r"https?://([^/\s)\]>\"']+)[^\s)\]>\"']*")
_EMAIL_DOMAIN = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")


def domains_of(urls: Iterable[str]) -> set[str]:
    """The host names of some URLs, lower-cased."""
    return {m.group(1).lower().split(":")[0] for u in urls for m in _URL.finditer(u or "")}


def _allowed(host: str, allowed: set[str]) -> bool:
    host = host.lower().split(":")[0]
    return any(host == d or host.endswith("." + d) for d in allowed)


def strip_unknown_links(reply: str, allowed: set[str]) -> tuple[str, bool]:
    """Remove sentences linking (or giving an e-mail address) to domains that neither the brand nor a
    cited source uses. Returns (reply, whether anything was removed)."""
    def known(sentence: str) -> bool:
        hosts = [m.group(1) for m in _URL.finditer(sentence)] + [m.group(1) for m in _EMAIL_DOMAIN.finditer(sentence)]
        return all(_allowed(h, allowed) for h in hosts)

    body, dropped = filter_sentences(reply, known)
    return body, bool(dropped)
