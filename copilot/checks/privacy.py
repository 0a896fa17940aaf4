"""Personal data in a reply: the customer's own comes back, anybody else's never reaches it.

Drafts hold placeholders, never personal data: an external model saw the customer's data as
numbered placeholders (``[EMAIL_1]``) and the originals are put back here; any other placeholder
(``[EMAIL]`` from another customer's redacted ticket, a number the model invented) marks a
sentence about somebody else, which is dropped.
"""

from __future__ import annotations

from copilot.pii import PLACEHOLDER_RE, restore
from copilot.text import filter_sentences

__all__ = ["restore_own_data"]


def restore_own_data(body: str, pii: dict[str, str]) -> tuple[str, bool]:
    """(the body with the customer's own data put back, whether a sentence with foreign data was dropped)."""
    def own(sentence: str) -> bool:
        return all(m.group(0) in pii for m in PLACEHOLDER_RE.finditer(sentence))

    body, dropped = filter_sentences(body, own)
    return restore(body, pii), bool(dropped)
