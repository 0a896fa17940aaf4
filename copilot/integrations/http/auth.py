"""Bearer tokens scoped to brands. Only SHA-256 digests are configured; tokens never are."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, date, datetime

from copilot.config import ApiToken
from copilot.errors import AuthError, ForbiddenError

__all__ = ["Authenticator", "hash_token", "new_token"]

TOKEN_PREFIX = "cpt_"
log = logging.getLogger(__name__)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class Authenticator:
    def __init__(self, tokens: list[ApiToken], *, today: date | None = None) -> None:
        self.tokens = tokens
        self._today = today

    def principal(self, authorization: str | None) -> ApiToken:
        """The token's entry for an ``Authorization: Bearer ...`` header, or AuthError."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError("missing bearer token", hint='send "Authorization: Bearer <token>"')
        digest = hash_token(authorization.split(" ", 1)[1].strip())
        for t in self.tokens:
            if hmac.compare_digest(t.sha256, digest):
                today = self._today or datetime.now(UTC).date()
                if t.expires is not None and t.expires < today:
                    # The caller is an agent in a helpdesk: the command is for the admin, in the log.
                    log.warning("refused token %r: it expired on %s (an admin creates a new one with "
                                "`copilot token create`)", t.name, t.expires)
                    raise AuthError(f"token {t.name!r} expired on {t.expires}",
                                    hint="ask your admin for a new API token")
                return t
        log.warning("refused an unknown API token (an admin creates tokens with `copilot token create`)")
        raise AuthError("unknown token", hint="check the token, or ask your admin for a new API token")

    @staticmethod
    def check_brand(principal: ApiToken, brand: str) -> None:
        if "*" not in principal.brands and brand not in principal.brands:
            raise ForbiddenError(f"token {principal.name!r} may not use brand {brand!r}",
                                 hint=f"it covers: {', '.join(principal.brands)}")

    @staticmethod
    def default_brand(principal: ApiToken, fallback: str) -> str:
        """A token for exactly one brand implies it; otherwise the configured default."""
        if len(principal.brands) == 1 and principal.brands[0] != "*":
            return principal.brands[0]
        return fallback
