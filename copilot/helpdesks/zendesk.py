"""Zendesk REST client: read a ticket, post an internal note or a public reply, list solved tickets.

Shapes follow the public API reference: ``/api/v2/tickets/{id}``, ``/comments`` (cursor pagination
via ``links.next``/``meta.has_more``, users side-loaded), ``PUT`` with a comment, and the incremental
cursor export. Tickets are mapped by ``copilot.formats.zendesk`` (the same mapper as exports).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from copilot.formats.zendesk import ticket_from_zendesk
from copilot.helpdesks.http import HelpdeskHTTP
from copilot.models import Ticket

__all__ = ["ZendeskClient"]


class ZendeskClient:
    name = "zendesk"

    def __init__(self, http: HelpdeskHTTP, *, brand: str | None = None) -> None:
        self.http, self.brand = http, brand

    @classmethod
    def connect(cls, base_url: str, email: str, api_token: str, *, brand: str | None = None,
                **kw: Any) -> ZendeskClient:
        return cls(HelpdeskHTTP(base_url, auth=(f"{email}/token", api_token), name="zendesk", **kw), brand=brand)

    def ticket(self, ticket_id: str) -> Ticket:
        t = self.http.request("GET", f"/api/v2/tickets/{ticket_id}.json")["ticket"]
        users: dict[str, dict[str, Any]] = {}
        comments = list(self._comments(ticket_id, users))
        ticket = ticket_from_zendesk(t, comments, users)
        return ticket.model_copy(update={"brand": self.brand}) if self.brand else ticket

    def _comments(self, ticket_id: str, users: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
        url: str | None = f"/api/v2/tickets/{ticket_id}/comments.json?include=users&page[size]=100"
        while url:
            page = self.http.request("GET", url)
            yield from page.get("comments", [])
            users.update({str(u["id"]): u for u in page.get("users", [])})
            url = page.get("links", {}).get("next") if page.get("meta", {}).get("has_more") else None

    def _comment(self, ticket_id: str, text: str, *, public: bool) -> str | None:
        out = self.http.request("PUT", f"/api/v2/tickets/{ticket_id}.json",
                                json={"ticket": {"comment": {"body": text, "public": public}}})
        # The update's audit lists what it did: the new comment's id is the note's id.
        events = (out.get("audit") or {}).get("events") or [] if isinstance(out, dict) else []
        return next((str(e["id"]) for e in events if e.get("type") == "Comment" and "id" in e), None)

    def add_internal_note(self, ticket_id: str, text: str) -> str | None:
        return self._comment(ticket_id, text, public=False)

    def find_note(self, ticket_id: str, marker: str) -> str | None:
        for c in self._comments(ticket_id, {}):
            if marker in str(c.get("plain_body") or c.get("body") or ""):
                return str(c.get("id"))
        return None

    def add_public_reply(self, ticket_id: str, text: str) -> None:
        self._comment(ticket_id, text, public=True)

    def solved_since(self, start_time: int) -> Iterator[str]:
        """Ids of tickets solved or closed since ``start_time`` (Unix seconds), via the cursor export."""
        url: str | None = f"/api/v2/incremental/tickets/cursor.json?start_time={start_time}"
        while url:
            page = self.http.request("GET", url)
            for t in page.get("tickets", []):
                if t.get("status") in {"solved", "closed"}:
                    yield str(t["id"])
            url = None if page.get("end_of_stream", True) else page.get("after_url")
