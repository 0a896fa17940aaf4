"""HTTP for helpdesk APIs: timeouts, bounded retries with backoff on 429/5xx honouring Retry-After."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from copilot.errors import HelpdeskError

__all__ = ["HelpdeskHTTP", "RetryableError"]

log = logging.getLogger(__name__)
RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}
MAX_WAIT_S = 60.0


class RetryableError(HelpdeskError):
    """Worth trying again later (rate limit, outage, timeout); ``retry_after`` when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("Retry-After")
    try:
        return min(MAX_WAIT_S, max(0.0, float(raw))) if raw is not None else None
    except ValueError:
        return None


class HelpdeskHTTP:
    def __init__(self, base_url: str, *, auth: httpx.Auth | tuple[str, str] | None = None,
                 headers: dict[str, str] | None = None, timeout_s: float = 10.0, retries: int = 3,
                 backoff_s: float = 0.5, sleep: Callable[[float], None] = time.sleep, name: str = "helpdesk") -> None:
        self.client = httpx.Client(base_url=base_url.rstrip("/"), auth=auth, headers=headers, timeout=timeout_s)
        self.retries, self.backoff_s, self.sleep, self.name = retries, backoff_s, sleep, name

    def request(self, method: str, url: str, **kw: Any) -> Any:
        """The JSON body of a successful call; RetryableError once retries are spent on a transient
        failure, HelpdeskError on a permanent one (4xx)."""
        last: RetryableError | None = None
        for attempt in range(self.retries + 1):
            try:
                resp = self.client.request(method, url, **kw)
            except httpx.TransportError as exc:  # timeouts, refused connections
                last = RetryableError(f"{self.name} {method} {url}: {type(exc).__name__}")
            else:
                if resp.status_code < 300:
                    return resp.json() if resp.content else {}
                if resp.status_code not in RETRY_STATUSES:
                    raise HelpdeskError(f"{self.name} {method} {url}: HTTP {resp.status_code}",
                                        hint=_hint(resp.status_code))
                last = RetryableError(f"{self.name} {method} {url}: HTTP {resp.status_code}",
                                      retry_after=_retry_after(resp))
            if attempt < self.retries:
                wait = last.retry_after if last.retry_after is not None else self.backoff_s * 2 ** attempt
                log.info("%s; retrying in %.1fs", last.message, wait)
                self.sleep(wait)
        assert last is not None
        raise last

    def close(self) -> None:
        self.client.close()


def _hint(status: int) -> str:
    return {401: "check the helpdesk API credentials", 403: "the API user lacks permission for this",
            404: "the ticket does not exist (or was deleted)"}.get(status, "see the helpdesk's API documentation")
