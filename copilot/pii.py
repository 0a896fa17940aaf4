"""PII redaction with typed placeholders (the public names; the detectors live in ``copilot.privacy``).

Runs before anything is embedded or stored, and on text that leaves the machine. Kinds: e-mail,
phone, card, IBAN, national id, passport, date of birth, IP address, order and account numbers,
street address, name and social handle. Numbers with a check digit are checked (Luhn, IBAN mod-97,
the Chinese resident id); numbers without one need a keyword, so amounts, dates, versions and
product codes survive.
"""

from __future__ import annotations

from copilot.privacy import ALL_KINDS, ARTICLE_KINDS, PLACEHOLDER_RE, Redaction, redact, restore

__all__ = ["ALL_KINDS", "ARTICLE_KINDS", "PLACEHOLDER_RE", "Redaction", "redact", "restore"]
