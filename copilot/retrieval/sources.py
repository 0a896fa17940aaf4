"""Loaders for the input formats of DESIGN.md (contract).

Loaders never stop at the first bad record: each returns the good records
and a list of problems, each naming the file and line and how to fix it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from copilot.errors import InputError
from copilot.formats.zendesk import article_from_helpcenter, looks_like_zendesk_ticket, ticket_from_zendesk
from copilot.models import Article, Ticket
from copilot.retrieval.html import html_to_text

__all__ = ["KB_SUFFIXES", "LoadIssue", "Loaded", "load_kb", "load_tickets"]

KB_SUFFIXES = {".md", ".markdown", ".html", ".htm", ".txt"}


@dataclass
class LoadIssue:
    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass
class Loaded:
    articles: list[Article] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    issues: list[LoadIssue] = field(default_factory=list)
    # (source id, reason): valid records deliberately not indexed.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | LoadIssue]]:
    """Yield (line number, object) or (line number, issue) for each non-blank line."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", hint="check the path") from exc
    with fh:
        if b"\x00" in fh.peek(8192)[:8192]:  # text never holds NUL bytes
            yield 1, LoadIssue(str(path), "a binary file, not JSON lines", "pass a .jsonl text file")
            return
        # Bytes, decoded line by line: one line that is not UTF-8 costs that line only.
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield lineno, LoadIssue(f"{path}:{lineno}", f"not UTF-8 text (byte {exc.start + 1} of the line)",
                                        "save the file as UTF-8")
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, LoadIssue(f"{path}:{lineno}", f"not valid JSON ({exc.msg} at column {exc.colno})",
                                        "each line must be one JSON object")
                continue
            except RecursionError:
                yield lineno, LoadIssue(f"{path}:{lineno}", "JSON nested too deeply", "flatten the record")
                continue
            if not isinstance(obj, dict):
                yield lineno, LoadIssue(f"{path}:{lineno}", f"expected a JSON object, got {type(obj).__name__}")
                continue
            yield lineno, obj


def _json_document(path: Path, out: Loaded, hint: str = "") -> Any:
    """One JSON document, or None with the problem recorded (not UTF-8, not JSON, nested too deeply)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        out.issues.append(LoadIssue(str(path), f"not UTF-8 text (byte {exc.start + 1})", "save the file as UTF-8"))
    except json.JSONDecodeError as exc:
        out.issues.append(LoadIssue(f"{path}:{exc.lineno}", f"not valid JSON ({exc.msg})", hint))
    except RecursionError:
        out.issues.append(LoadIssue(str(path), "JSON nested too deeply", hint))
    return None


# --- knowledge base -------------------------------------------------------------------------------


def _front_matter(raw: str) -> tuple[dict[str, Any], str]:
    if not raw.startswith("---"):
        return {}, raw
    end = raw.find("\n---", 3)
    if end == -1:
        raise ValueError("front matter opened with '---' is never closed")
    meta = yaml.safe_load(raw[3:end]) or {}
    if not isinstance(meta, dict):
        raise ValueError("front matter must be a YAML mapping")
    return meta, raw[end + 4 :].lstrip("\n")


def _article_from_file(path: Path, root: Path) -> Article:
    raw = path.read_text(encoding="utf-8")
    rel = path.relative_to(root).as_posix() if root.is_dir() else path.name
    meta: dict[str, Any] = {}
    title = ""
    if path.suffix.lower() in {".md", ".markdown"}:
        meta, body = _front_matter(raw)
    elif path.suffix.lower() in {".html", ".htm"}:
        title, body = html_to_text(raw)
    else:
        body = raw
    body = body.strip()
    if not title:
        for line in body.splitlines():
            if line.startswith("# "):
                title = line[2:].strip()
                break
    if not title:
        title = path.stem.replace("-", " ").replace("_", " ").strip()
    data = {"id": rel, "title": title, "body": body, **{k: v for k, v in meta.items() if v is not None}}
    if isinstance(data.get("tags"), str):
        data["tags"] = [t.strip() for t in str(data["tags"]).split(",") if t.strip()]
    return Article.model_validate(data)


def _load_helpcenter_json(path: Path, out: Loaded) -> None:
    """A Zendesk Help Center export: ``{"articles": [...]}`` as the API returns it; drafts are skipped."""
    doc = _json_document(path, out)
    if doc is None:
        return
    items = doc.get("articles") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        out.issues.append(LoadIssue(str(path), 'expected a Help Center export {"articles": [...]} or a list of articles'))
        return
    for i, a in enumerate(items):
        loc = f"{path}:articles[{i}]"
        if not isinstance(a, dict) or "id" not in a:
            out.issues.append(LoadIssue(loc, "article without an id"))
        elif a.get("draft"):
            out.skipped.append((str(a["id"]), "draft article"))
        else:
            try:
                out.articles.append(article_from_helpcenter(a))
            except ValidationError as exc:
                out.issues.append(LoadIssue(loc, f"invalid article: {_validation_message(exc)}"))


def load_kb(path: Path) -> Loaded:
    """Load a KB folder (md/html/txt), a JSONL of articles, or a Help Center JSON export."""
    out = Loaded()
    if not path.exists():
        raise InputError(f"knowledge base path not found: {path}", hint="pass a folder or a .jsonl file to --kb")
    if path.is_file() and path.suffix.lower() == ".jsonl":
        for lineno, obj in iter_jsonl(path):
            if isinstance(obj, LoadIssue):
                out.issues.append(obj)
                continue
            try:
                out.articles.append(Article.model_validate(obj))
            except ValidationError as exc:
                out.issues.append(LoadIssue(f"{path}:{lineno}", f"invalid article: {_validation_message(exc)}",
                                            'required: "id", "body"'))
        return out
    if path.is_file() and path.suffix.lower() == ".json":
        _load_helpcenter_json(path, out)
        return out
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink())
    root = path if path.is_dir() else path.parent
    inside = root.resolve()
    for f in files:
        if path.is_dir() and not f.resolve().is_relative_to(inside):
            # A link out of the folder would index (and let anyone search) whatever it points at.
            out.skipped.append((f.as_posix(), "symbolic link to outside the knowledge base folder"))
            continue
        if not f.is_file():
            continue  # a link to a folder inside: its files are read where they are
        if f.suffix.lower() not in KB_SUFFIXES:
            if path.is_file():
                out.issues.append(LoadIssue(str(f), f"unsupported file type {f.suffix!r}",
                                            "use .md, .html, .txt, .jsonl or a Help Center .json export"))
            elif not f.name.startswith("."):
                out.skipped.append((f.as_posix(), f"unsupported file type {f.suffix or '(none)'}"))
            continue
        try:
            article = _article_from_file(f, root)
        except UnicodeDecodeError:
            out.issues.append(LoadIssue(str(f), "not UTF-8 text", "save the file as UTF-8"))
            continue
        except (ValueError, yaml.YAMLError) as exc:
            out.issues.append(LoadIssue(str(f), f"bad front matter: {exc}".splitlines()[0],
                                        "front matter is YAML between two '---' lines"))
            continue
        except ValidationError as exc:
            out.issues.append(LoadIssue(str(f), f"invalid front matter: {_validation_message(exc)}"))
            continue
        if not article.body.strip():
            out.skipped.append((article.id, "empty body"))
            continue
        out.articles.append(article)
    return out


# --- tickets -------------------------------------------------------------------------------------


def load_tickets(path: Path, *, include_unresolved: bool = False) -> Loaded:
    """Load a JSONL of tickets (DESIGN.md shape, or Zendesk's NDJSON export: one ticket per line with
    its comments) or a Zendesk API page ``{"tickets": [...], "users": [...]}`` (auto-detected)."""
    out = Loaded()
    if not path.is_file():
        raise InputError(f"tickets file not found: {path}", hint="pass a .jsonl file to --tickets")
    if path.suffix.lower() == ".json":
        _load_zendesk_json(path, out, include_unresolved=include_unresolved)
        return out
    for lineno, obj in iter_jsonl(path):
        if isinstance(obj, LoadIssue):
            out.issues.append(obj)
        else:
            _add_record(obj, f"{path}:{lineno}", out, include_unresolved=include_unresolved)
    return out


def _add_record(obj: dict[str, Any], where: str, out: Loaded, *, include_unresolved: bool,
                users: dict[str, dict[str, Any]] | None = None) -> None:
    try:
        ticket = ticket_from_zendesk(obj, users=users) if looks_like_zendesk_ticket(obj) else Ticket.model_validate(obj)
    except ValidationError as exc:
        out.issues.append(LoadIssue(where, f"invalid ticket: {_validation_message(exc)}",
                                    'required: "id" and "messages": [{"author": "customer"|"agent", "body"}]'))
        return
    add_ticket(ticket, where, out, include_unresolved=include_unresolved)


def _load_zendesk_json(path: Path, out: Loaded, *, include_unresolved: bool) -> None:
    doc = _json_document(path, out, "a .json file must hold one document; use .jsonl for one ticket per line")
    if doc is None:
        return
    if isinstance(doc, dict) and "ticket" in doc:
        doc = {"tickets": [doc["ticket"]], "users": doc.get("users", [])}
    tickets = doc.get("tickets") if isinstance(doc, dict) else doc
    if not isinstance(tickets, list):
        out.issues.append(LoadIssue(str(path), 'expected {"tickets": [...]} or a list of tickets'))
        return
    users = {str(u.get("id")): u for u in (doc.get("users") or []) if isinstance(u, dict)} \
        if isinstance(doc, dict) else {}
    for i, obj in enumerate(tickets):
        where = f"{path}:tickets[{i}]"
        if not isinstance(obj, dict):
            out.issues.append(LoadIssue(where, "expected a ticket object"))
        else:
            _add_record(obj, where, out, include_unresolved=include_unresolved, users=users)


def add_ticket(ticket: Ticket, where: str, out: Loaded, *, include_unresolved: bool) -> None:
    if not ticket.id:
        out.issues.append(LoadIssue(where, "ticket has no id", 'add an "id" field'))
    elif not include_unresolved and not ticket.is_resolved:
        out.skipped.append((ticket.id, f"status {ticket.status!r} is not solved/closed"))
    elif not ticket.customer_text().strip():
        out.skipped.append((ticket.id, "no customer message"))
    elif not ticket.agent_replies() and not ticket.actions:
        # A ticket resolved by an action alone (a macro, a refund) still teaches next actions.
        out.skipped.append((ticket.id, "no agent reply or action to learn from"))
    else:
        out.tickets.append(ticket)
