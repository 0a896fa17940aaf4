"""Helpdesk API clients (Zendesk, Freshdesk) behind one protocol, and the registry the application
layer delivers replies and notes through."""

from __future__ import annotations

from copilot.helpdesks.base import Helpdesk, HelpdeskRegistry, NoteLookup
from copilot.helpdesks.http import HelpdeskHTTP, RetryableError

__all__ = ["Helpdesk", "HelpdeskHTTP", "HelpdeskRegistry", "NoteLookup", "RetryableError"]
