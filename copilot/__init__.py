"""Support copilot: grounded, on-brand reply suggestions and next-best actions."""

from __future__ import annotations

from copilot.errors import ConflictError, CopilotError, InputError, NotFoundError
from copilot.flags import Flag
from copilot.models import (
    Article,
    Citation,
    Evidence,
    FeedbackRecord,
    FeedbackStats,
    Message,
    NextAction,
    SendResult,
    ShownSuggestion,
    StreamEvent,
    Suggestion,
    Ticket,
)
from copilot.service import Copilot, IndexInfo
from copilot.settings import Settings

__all__ = ["Article", "Citation", "ConflictError", "Copilot", "CopilotError", "Evidence", "FeedbackRecord",
           "FeedbackStats", "Flag", "IndexInfo", "InputError", "Message", "NextAction", "NotFoundError", "SendResult",
           "Settings", "ShownSuggestion", "StreamEvent", "Suggestion", "Ticket"]
__version__ = "0.1.0"
