"""One error tree for the whole product.

Every error carries a stable ``code`` (for logs, the HTTP API and scripts) and
a ``hint`` telling the user how to fix it. Entry points (CLI, HTTP, Slack)
catch ``CopilotError`` once and render it; nothing below them prints.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "ConflictError",
    "CopilotError",
    "EmbeddingError",
    "ForbiddenError",
    "HelpdeskError",
    "InputError",
    "NotFoundError",
    "PromptError",
    "StoreError",
    "TimeBudgetError",
    "TooLargeError",
    "UnavailableError",
    "UnknownBrandError",
]


class CopilotError(Exception):
    code = "copilot_error"

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where = where

    def __str__(self) -> str:
        parts = [f"{self.where}: {self.message}" if self.where else self.message]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "where": self.where, "hint": self.hint}


class InputError(CopilotError):
    """Bad user input: a file, a line, a field."""

    code = "invalid_input"


class TooLargeError(InputError):
    """A message, ticket or article over the configured size limit."""

    code = "payload_too_large"


class TimeBudgetError(CopilotError):
    """The request ran past its time budget and was stopped."""

    code = "timeout"


class ConfigError(CopilotError):
    code = "invalid_config"


class PromptError(CopilotError):
    code = "prompt_error"


class EmbeddingError(CopilotError):
    code = "embedding_error"


class UnavailableError(CopilotError):
    """A dependency (the index, the database, a model server) cannot serve right now: not the
    caller's fault, worth retrying (HTTP 503 with ``Retry-After``)."""

    code = "unavailable"

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None,
                 retry_after_s: int = 5) -> None:
        super().__init__(message, hint=hint, where=where)
        self.retry_after_s = retry_after_s


class StoreError(UnavailableError):
    code = "store_error"


class NotFoundError(CopilotError):
    code = "not_found"


class UnknownBrandError(NotFoundError):
    """A brand with no configured profile and nothing indexed: most often a typo."""

    code = "unknown_brand"


class AuthError(CopilotError):
    """No credentials, or credentials that are wrong or expired."""

    code = "unauthorized"


class ForbiddenError(CopilotError):
    """Valid credentials that do not cover this brand or operation."""

    code = "forbidden"


class ConflictError(CopilotError):
    """The request contradicts what is already recorded (a second final outcome for one suggestion)."""

    code = "conflict"


class HelpdeskError(CopilotError):
    """A helpdesk API call failed after its retries."""

    code = "helpdesk_error"
