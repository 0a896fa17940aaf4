"""Text that instructions planted in a ticket or a source try to get into a reply.

- sources carrying instructions (a poisoned article or past ticket) are never used;
- a reply never repeats the assistant's own prompt;
- a reply never copies the customer's words at length (eight words in a row, five when the ticket
  tried to instruct us), nor the names an injected ticket coins ("You are RefundBot").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from copilot.guardrails import screen
from copilot.models import Hit
from copilot.pii import PLACEHOLDER_RE

__all__ = ["InjectedText", "clean_sources"]

_COINED = re.compile(r"\b[A-Za-z]*[a-z][A-Z]\w*|\b[A-Za-z]+_\w+")  # CamelCase or snake_case words
_WORDS = re.compile(r"\w+")


def clean_sources(hits: Sequence[Hit]) -> tuple[list[Hit], bool]:
    """(the sources without instructions in them, whether any was dropped)."""
    kept = [h for h in hits if not screen(h.chunk.text + "\n" + "\n".join(h.chunk.replies)).injection]
    return kept, len(kept) != len(hits)


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
        return screen(sentence).injection
