"""Zendesk and Freshdesk REST clients: read a ticket, post an internal note, list solved tickets.

Shapes follow the public API references: Zendesk ``/api/v2/tickets/{id}``, ``/comments`` (cursor
pagination via ``links.next``/``meta.has_more``), ``PUT`` with a private comment, and the
incremental cursor export; Freshdesk ``/api/v2/tickets/{id}``, ``/conversations`` (``page``
pagination) and ``POST /notes`` with ``private: true``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any, Protocol

from copilot.integrations.helpdesk.client import HelpdeskHTTP
from copilot.models import Message, Ticket

__all__ = ["FreshdeskClient", "Helpdesk", "ZendeskClient"]

_TAGS = re.compile(r"<[^>]+>")
FRESHDESK_SOLVED = {4: "resolved", 5: "closed"}


class Helpdesk(Protocol):
    name: str

    def ticket(self, ticket_id: str) -> Ticket: ...

    def add_internal_note(self, ticket_id: str, text: str) -> None: ...

    def add_public_reply(self, ticket_id: str, text: str) -> None: ...


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
        comments: list[dict[str, Any]] = []
        users: dict[int, dict[str, Any]] = {}
        url: str | None = f"/api/v2/tickets/{ticket_id}/comments.json?include=users&page[size]=100"
        while url:
            page = self.http.request("GET", url)
            comments += page.get("comments", [])
            users.update({u["id"]: u for u in page.get("users", [])})
            url = page.get("links", {}).get("next") if page.get("meta", {}).get("has_more") else None
        requester = users.get(int(t.get("requester_id") or 0), {})
        messages = []
        for c in comments:
            if not c.get("public", True):
                continue  # internal notes are not the conversation
            role = users.get(int(c.get("author_id") or 0), {}).get("role", "end-user")
            messages.append(Message(author="customer" if role == "end-user" else "agent",
                                    body=c.get("plain_body") or _TAGS.sub(" ", c.get("body", ""))))
        return Ticket(id=str(t["id"]), brand=self.brand, subject=t.get("subject"), status=t.get("status"),
                      customer_name=(requester.get("name") or "").split(" ")[0] or None, messages=messages,
                      tags=t.get("tags") or [])

    def _comment(self, ticket_id: str, text: str, *, public: bool) -> None:
        self.http.request("PUT", f"/api/v2/tickets/{ticket_id}.json",
                          json={"ticket": {"comment": {"body": text, "public": public}}})

    def add_internal_note(self, ticket_id: str, text: str) -> None:
        self._comment(ticket_id, text, public=False)

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


class FreshdeskClient:
    name = "freshdesk"

    def __init__(self, http: HelpdeskHTTP, *, brand: str | None = None) -> None:
        self.http, self.brand = http, brand

    @classmethod
    def connect(cls, base_url: str, api_key: str, *, brand: str | None = None, **kw: Any) -> FreshdeskClient:
        return cls(HelpdeskHTTP(base_url, auth=(api_key, "X"), name="freshdesk", **kw), brand=brand)

    def ticket(self, ticket_id: str) -> Ticket:
        t = self.http.request("GET", f"/api/v2/tickets/{ticket_id}?include=requester")
        messages = [Message(author="customer", body=t.get("description_text") or _TAGS.sub(" ", t.get("description", "")))]
        page = 1
        while True:
            convs = self.http.request("GET", f"/api/v2/tickets/{ticket_id}/conversations?page={page}&per_page=100")
            for c in convs:
                if c.get("private"):
                    continue
                messages.append(Message(author="customer" if c.get("incoming") else "agent",
                                        body=c.get("body_text") or _TAGS.sub(" ", c.get("body", ""))))
            if len(convs) < 100:
                break
            page += 1
        status = FRESHDESK_SOLVED.get(int(t.get("status") or 2), "open")
        name = ((t.get("requester") or {}).get("name") or "").split(" ")[0] or None
        return Ticket(id=str(t["id"]), brand=self.brand, subject=t.get("subject"), status=status,
                      customer_name=name, messages=[m for m in messages if m.body.strip()], tags=t.get("tags") or [])

    def add_internal_note(self, ticket_id: str, text: str) -> None:
        self.http.request("POST", f"/api/v2/tickets/{ticket_id}/notes", json={"body": _html(text), "private": True})

    def add_public_reply(self, ticket_id: str, text: str) -> None:
        self.http.request("POST", f"/api/v2/tickets/{ticket_id}/reply", json={"body": _html(text)})


def _html(text: str) -> str:
    """Freshdesk bodies are HTML: the text escaped, its line breaks kept."""
    return "<br>".join(html.escape(line, quote=False) for line in text.split("\n"))
