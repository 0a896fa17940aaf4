"""Text that instructions planted in a ticket or a source try to get into a reply.

- poisoned sources (instructions to an assistant, a credential request, a payment or login link to
  a domain the brand does not use, a promise beyond any policy) are never used: the same rules as
  ingest's quarantine (``copilot.poisoning``), for sources indexed before it or that it let through;
- a reply never repeats the assistant's own prompt;
- a reply never copies the customer's words at length (eight words in a row, five when the ticket
  tried to instruct us), nor the names an injected ticket coins ("You are RefundBot").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from copilot.guardrails import injected_text
from copilot.models import Hit
from copilot.pii import PLACEHOLDER_RE
from copilot.poisoning import poison_reasons

__all__ = ["InjectedText", "clean_sources"]

_COINED = re.compile(r"\b[A-Za-z]*[a-z][A-Z]\w*|\b[A-Za-z]+_\w+")  # CamelCase or snake_case words
_WORDS = re.compile(r"\w+")


def clean_sources(hits: Sequence[Hit], allowed: Iterable[str] = ()) -> tuple[list[Hit], bool]:
    """(the sources that are not poisoned, whether any was dropped); ``allowed``: the brand's domains."""
    domains = frozenset(allowed)
    kept = [h for h in hits if not _poisoned(h.chunk.kind, h.chunk.text, tuple(h.chunk.replies), domains)]
    return kept, len(kept) != len(hits)


@lru_cache(maxsize=4096)  # the same sources come back for ticket after ticket
def _poisoned(kind: str, text: str, replies: tuple[str, ...], allowed: frozenset[str]) -> bool:
    if kind == "ticket":  # the customer's words are only data; the agent's replies are reused
        return bool(poison_reasons(trusted=text, reused="\n\n".join(replies), allowed=allowed, emails=False))
    return bool(poison_reasons(reused="\n".join([text, *replies]), allowed=allowed))


def _shingles(text: str, n: int) -> set[str]:
    words = _WORDS.findall(text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


class InjectedText:
    """Which sentences of a reply repeat the prompt or the ticket's planted text."""

    def __init__(self, *, ticket: str, injected: bool, prompt: str = "") -> None:
        self.injected = injected
        self._n = 5 if injected else 8
        self._prompt = _shingles(prompt, 5)
        self._ticket = _shingles(ticket, self._n)
        self._coined = {w.lower() for w in _COINED.findall(PLACEHOLDER_RE.sub("", ticket))} if injected else set()

    def prompt_leak(self, sentence: str) -> bool:
        return bool(self._prompt and _shingles(sentence, 5) & self._prompt)

    def echo(self, sentence: str) -> bool:
        if _shingles(sentence, self._n) & self._ticket:
            return True
        if self._coined and self._coined & {w.lower() for w in _WORDS.findall(sentence)}:
            return True
        return injected_text(sentence) is not None
