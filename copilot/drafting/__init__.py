"""Drafters turn a screened ticket and its retrieved evidence into a reply."""

from __future__ import annotations

from copilot.drafting.base import Draft, Drafter, DraftRequest
from copilot.drafting.embedded import EmbeddedDrafter

__all__ = ["Draft", "DraftRequest", "Drafter", "EmbeddedDrafter"]
