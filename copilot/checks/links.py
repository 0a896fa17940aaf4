"""Links and e-mail addresses in a reply may only point at domains the brand or a cited source uses.

Links are found with or without a scheme ("https://evil.example", "www.evil.example",
"evil.example/claim") and e-mail addresses with a full-width ＠ too (``copilot.poisoning``).
"""

from __future__ import annotations

from copilot.poisoning import allowed_host, domains_of, hosts_in
from copilot.text import filter_sentences

__all__ = ["domains_of", "strip_unknown_links"]


def strip_unknown_links(reply: str, allowed: set[str]) -> tuple[str, bool]:
    """Remove sentences linking (or giving an e-mail address) to domains that neither the brand nor a
    cited source uses. Returns (reply, whether anything was removed)."""
    def known(sentence: str) -> bool:
        return all(allowed_host(host, allowed) for host, _ in hosts_in(sentence))

    body, dropped = filter_sentences(reply, known)
    return body, bool(dropped)
