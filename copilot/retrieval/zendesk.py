"""Zendesk export importers: tickets with their comments, and Help Center articles.

Maps Zendesk's documented shapes onto our Ticket/Article:
- tickets: the JSON export (NDJSON, one ticket per line with ``comments``) or an
  API page ``{"tickets": [...], "users": [...]}``. A comment is the customer's
  when its author is the requester or an end-user; private comments (internal
  notes) are never indexed.
- articles: ``{"articles": [...]}`` from the Help Center API; drafts are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from copilot.models import Article, Message, Ticket

if TYPE_CHECKING:
    from copilot.retrieval.sources import Loaded

__all__ = ["articles_from_helpcenter", "looks_like_zendesk_ticket", "tickets_from_export_json"]


def looks_like_zendesk_ticket(obj: dict[str, Any]) -> bool:
    return "messages" not in obj and ("requester_id" in obj or "comments" in obj or "description" in obj)


def _comment_text(c: dict[str, Any]) -> str:
    if c.get("plain_body"):
        return str(c["plain_body"])
    body = str(c.get("body") or "")
    if c.get("html_body") and not body:
        from copilot.retrieval.html import html_to_text

        return html_to_text(str(c["html_body"])).text
    return body


def add_zendesk_ticket(
    obj: dict[str, Any], where: str, out: Loaded, *, include_unresolved: bool, roles: dict[str, str] | None = None
) -> None:
    from copilot.retrieval.sources import LoadIssue, add_ticket

    roles = roles or {}
    requester = str(obj.get("requester_id", ""))
    comments = obj.get("comments")
    messages: list[Message] = []
    if isinstance(comments, list) and comments:
        for c in comments:
            if not isinstance(c, dict) or c.get("public") is False:
                continue
            author = str(c.get("author_id", ""))
            role = roles.get(author)
            is_customer = author == requester if role is None else role == "end-user"
            text = _comment_text(c).strip()
            if text:
                messages.append(Message(author="customer" if is_customer else "agent", body=text,
                                        created_at=c.get("created_at")))
    elif obj.get("description"):
        messages.append(Message(author="customer", body=str(obj["description"])))
    try:
        ticket = Ticket(
            id=str(obj.get("id", "")),
            subject=obj.get("subject") or obj.get("raw_subject"),
            status=obj.get("status"),
            brand=str(obj["brand"]) if obj.get("brand") else None,
            locale=obj.get("locale"),
            tags=[str(t) for t in obj.get("tags") or []],
            actions=[str(t) for t in obj.get("actions") or []],
            messages=messages,
        )
    except ValidationError as exc:
        out.issues.append(LoadIssue(where, f"invalid Zendesk ticket: {exc.errors()[0]['msg']}"))
        return
    add_ticket(ticket, where, out, include_unresolved=include_unresolved)


def tickets_from_export_json(path: Path, out: Loaded, *, include_unresolved: bool) -> None:
    from copilot.retrieval.sources import LoadIssue

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        out.issues.append(LoadIssue(f"{path}:{exc.lineno}", f"not valid JSON ({exc.msg})",
                                    "a .json file must hold one document; use .jsonl for one ticket per line"))
        return
    if isinstance(doc, dict) and "ticket" in doc:
        doc = {"tickets": [doc["ticket"]], "users": doc.get("users", [])}
    tickets = doc.get("tickets") if isinstance(doc, dict) else doc
    if not isinstance(tickets, list):
        out.issues.append(LoadIssue(str(path), 'expected {"tickets": [...]} or a list of tickets'))
        return
    roles = {str(u.get("id")): str(u.get("role")) for u in (doc.get("users") or []) if isinstance(u, dict)} \
        if isinstance(doc, dict) else {}
    for i, obj in enumerate(tickets):
        where = f"{path}:tickets[{i}]"
        if not isinstance(obj, dict):
            out.issues.append(LoadIssue(where, "expected a ticket object"))
            continue
        if "messages" in obj:
            from copilot.retrieval.sources import add_ticket

            try:
                add_ticket(Ticket.model_validate(obj), where, out, include_unresolved=include_unresolved)
            except ValidationError as exc:
                out.issues.append(LoadIssue(where, f"invalid ticket: {exc.errors()[0]['msg']}"))
            continue
        add_zendesk_ticket(obj, where, out, include_unresolved=include_unresolved, roles=roles)


def articles_from_helpcenter(doc: Any, where: str, out: Loaded) -> None:
    from copilot.retrieval.html import html_to_text
    from copilot.retrieval.sources import LoadIssue

    items = doc.get("articles") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        out.issues.append(LoadIssue(where, 'expected a Help Center export {"articles": [...]} or a list of articles'))
        return
    for i, a in enumerate(items):
        loc = f"{where}:articles[{i}]"
        if not isinstance(a, dict) or "id" not in a:
            out.issues.append(LoadIssue(loc, "article without an id"))
            continue
        if a.get("draft"):
            out.skipped.append((str(a["id"]), "draft article"))
            continue
        text = html_to_text(str(a.get("body") or ""), base_url=str(a.get("html_url") or a.get("url") or "")).text
        try:
            out.articles.append(Article(
                id=str(a["id"]), title=str(a.get("title") or a.get("name") or ""), body=text,
                url=a.get("html_url") or a.get("url"), locale=a.get("locale"),
                brand=str(a["brand"]) if a.get("brand") else None,
                tags=[str(t) for t in a.get("label_names") or []], updated_at=a.get("updated_at"),
            ))
        except ValidationError as exc:
            out.issues.append(LoadIssue(loc, f"invalid article: {exc.errors()[0]['msg']}"))
