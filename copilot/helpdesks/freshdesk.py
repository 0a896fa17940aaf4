"""Freshdesk REST client: read a ticket, post a private note or a public reply.

Shapes follow the public API reference: ``/api/v2/tickets/{id}?include=requester``,
``/conversations`` (``page`` pagination), ``POST /notes`` with ``private: true`` and ``/reply``.
Tickets are mapped by ``copilot.formats.freshdesk``.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

from copilot.formats.freshdesk import ticket_from_freshdesk
from copilot.helpdesks.http import HelpdeskHTTP
from copilot.models import Ticket

__all__ = ["FreshdeskClient"]

PAGE = 100


class FreshdeskClient:
    name = "freshdesk"

    def __init__(self, http: HelpdeskHTTP, *, brand: str | None = None) -> None:
        self.http, self.brand = http, brand

    @classmethod
    def connect(cls, base_url: str, api_key: str, *, brand: str | None = None, **kw: Any) -> FreshdeskClient:
        return cls(HelpdeskHTTP(base_url, auth=(api_key, "X"), name="freshdesk", **kw), brand=brand)

    def ticket(self, ticket_id: str) -> Ticket:
        t = self.http.request("GET", f"/api/v2/tickets/{ticket_id}?include=requester")
        return ticket_from_freshdesk(t, list(self._conversations(ticket_id)), brand=self.brand)

    def _conversations(self, ticket_id: str) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            batch = self.http.request("GET", f"/api/v2/tickets/{ticket_id}/conversations?page={page}&per_page={PAGE}")
            yield from batch
            if len(batch) < PAGE:
                return
            page += 1

    def add_internal_note(self, ticket_id: str, text: str) -> str | None:
        out = self.http.request("POST", f"/api/v2/tickets/{ticket_id}/notes",
                                json={"body": _html(text), "private": True})
        return str(out["id"]) if isinstance(out, dict) and "id" in out else None

    def find_note(self, ticket_id: str, marker: str) -> str | None:
        for c in self._conversations(ticket_id):
            if c.get("private") and marker in str(c.get("body_text") or c.get("body") or ""):
                return str(c.get("id"))
        return None

    def add_public_reply(self, ticket_id: str, text: str) -> None:
        self.http.request("POST", f"/api/v2/tickets/{ticket_id}/reply", json={"body": _html(text)})


def _html(text: str) -> str:
    """Freshdesk bodies are HTML: the text escaped, its line breaks kept."""
    return "<br>".join(html.escape(line, quote=False) for line in text.split("\n"))
