"""Zendesk tickets, comments, users and Help Center articles -> Ticket / Article.

One rule for who wrote a comment: the requester, or a user whose role is ``end-user``, is the
customer; anybody else is an agent. Private comments (internal notes) are never part of the
conversation. The customer's first name comes from the requester's user record when it is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from copilot.models import Article, Message, Ticket
from copilot.retrieval.html import html_to_text

__all__ = ["article_from_helpcenter", "comment_text", "looks_like_zendesk_ticket", "ticket_from_zendesk"]


def looks_like_zendesk_ticket(obj: Mapping[str, Any]) -> bool:
    return "messages" not in obj and ("requester_id" in obj or "comments" in obj or "description" in obj)


def comment_text(c: Mapping[str, Any]) -> str:
    if c.get("plain_body"):
        return str(c["plain_body"])
    if c.get("html_body") and not c.get("body"):
        return html_to_text(str(c["html_body"])).text
    body = str(c.get("body") or "")
    return html_to_text(body).text if "<" in body and ">" in body else body


def ticket_from_zendesk(obj: Mapping[str, Any], comments: Sequence[Mapping[str, Any]] | None = None,
                        users: Mapping[str, Mapping[str, Any]] | None = None) -> Ticket:
    """A Zendesk ticket with its comments (inline as ``comments`` in exports, or passed separately
    as the API pages them) and the users side-loaded with them (id -> user). Raises
    pydantic.ValidationError on a ticket that does not fit."""
    users = users or {}
    requester = str(obj.get("requester_id", ""))
    if comments is None:
        inline = obj.get("comments")
        comments = [c for c in inline if isinstance(c, Mapping)] if isinstance(inline, list) else []
    messages: list[Message] = []
    for c in comments:
        if c.get("public") is False:
            continue  # internal notes are not the conversation
        author = str(c.get("author_id", ""))
        role = (users.get(author) or {}).get("role")
        is_customer = author == requester or role == "end-user"
        text = comment_text(c).strip()
        if text:
            messages.append(Message(author="customer" if is_customer else "agent", body=text,
                                    created_at=c.get("created_at")))
    if not messages and obj.get("description"):
        messages.append(Message(author="customer", body=str(obj["description"])))
    name = str((users.get(requester) or {}).get("name") or "").split(" ")[0] or None
    return Ticket(
        id=str(obj.get("id", "")),
        subject=obj.get("subject") or obj.get("raw_subject"),
        status=obj.get("status"),
        brand=str(obj["brand"]) if obj.get("brand") else None,
        locale=obj.get("locale"),
        tags=[str(t) for t in obj.get("tags") or []],
        actions=[str(t) for t in obj.get("actions") or []],
        messages=messages,
        customer_name=name,
    )


def article_from_helpcenter(a: Mapping[str, Any]) -> Article:
    """A Help Center API article (its HTML body converted to text). Raises pydantic.ValidationError."""
    text = html_to_text(str(a.get("body") or ""), base_url=str(a.get("html_url") or a.get("url") or "")).text
    return Article(
        id=str(a["id"]), title=str(a.get("title") or a.get("name") or ""), body=text,
        url=a.get("html_url") or a.get("url"), locale=a.get("locale"),
        brand=str(a["brand"]) if a.get("brand") else None,
        tags=[str(t) for t in a.get("label_names") or []], updated_at=a.get("updated_at"),
    )
