"""Freshdesk tickets and conversations -> Ticket.

The ticket's description is the customer's first message; a conversation entry is the customer's
when it is ``incoming``; private notes are never part of the conversation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from copilot.models import Message, Ticket
from copilot.retrieval.html import html_to_text

__all__ = ["FRESHDESK_STATUS", "ticket_from_freshdesk"]

# Freshdesk's numeric statuses (2 open, 3 pending, 4 resolved, 5 closed).
FRESHDESK_STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}


def _text(plain: Any, html: Any) -> str:
    return str(plain) if plain else html_to_text(str(html or "")).text


def ticket_from_freshdesk(obj: Mapping[str, Any], conversations: Sequence[Mapping[str, Any]] | None = None,
                          *, brand: str | None = None) -> Ticket:
    """A Freshdesk ticket (``include=requester``) with its conversations. Raises pydantic.ValidationError."""
    messages = [Message(author="customer", body=_text(obj.get("description_text"), obj.get("description")))]
    for c in conversations if conversations is not None else obj.get("conversations") or []:
        if c.get("private"):
            continue
        messages.append(Message(author="customer" if c.get("incoming") else "agent",
                                body=_text(c.get("body_text"), c.get("body")), created_at=c.get("created_at")))
    try:
        status = FRESHDESK_STATUS.get(int(obj.get("status") or 2), "open")
    except (TypeError, ValueError):
        status = "open"
    name = str((obj.get("requester") or {}).get("name") or "").split(" ")[0] or None
    return Ticket(id=str(obj.get("id", "")), brand=brand, subject=obj.get("subject"), status=status,
                  customer_name=name, messages=[m for m in messages if m.body.strip()],
                  tags=[str(t) for t in obj.get("tags") or []])
