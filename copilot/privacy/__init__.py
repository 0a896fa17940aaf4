"""Personal data in support text: find it, replace it with typed placeholders, put it back.

``copilot.pii`` is the public import path; this package holds the detectors by subject.
"""

from __future__ import annotations

from copilot.privacy.redaction import ALL_KINDS, ARTICLE_KINDS, PLACEHOLDER_RE, Redaction, find_spans, redact, restore

__all__ = ["ALL_KINDS", "ARTICLE_KINDS", "PLACEHOLDER_RE", "Redaction", "find_spans", "redact", "restore"]
