"""Sources -> (redact, chunk, embed) -> store; query -> hybrid search."""

from __future__ import annotations
