"""Support copilot: grounded, on-brand reply suggestions and next-best actions."""

from __future__ import annotations

from copilot.errors import CopilotError
from copilot.models import Article, Citation, Message, NextAction, Suggestion, Ticket
from copilot.service import Copilot
from copilot.settings import Settings

__all__ = ["Article", "Citation", "Copilot", "CopilotError", "Message", "NextAction", "Settings", "Suggestion",
           "Ticket"]
__version__ = "0.1.0"
