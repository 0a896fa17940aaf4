"""Importers from public data shapes to tickets, articles or evaluation cases (JSONL).

- TweetSumm-style dialog JSONL: ``{"dialog_id", "brand", "turns": [{"speaker", "text"}]}``;
- Banking77-style CSV: ``text,category`` (the category becomes the ticket's action);
- any CSV / TSV / JSONL with a field mapping: ``id``, ``text`` (the customer's message), ``reply``
  (the agent's), ``action``, ``brand``, ``language``, ``title``/``body`` (articles), ``source``
  (the expected article of a case; ``@id`` for the row's own), and ``--where COLUMN=VALUE`` filters.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from copilot.errors import InputError
from copilot.evaluation.backtest import to_case
from copilot.evaluation.cases import EvalCase
from copilot.models import Article, Message, Ticket

__all__ = ["Output", "import_records"]

Output = Literal["tickets", "cases", "articles"]
csv.field_size_limit(sys.maxsize)


def _rows(path: Path, *, delimiter: str | None, header: bool,
          jsonl: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row) for CSV/TSV (by header name, or by column number without a header) or JSONL."""
    if not path.is_file():
        raise InputError(f"file not found: {path}")
    if jsonl or (path.suffix in {".jsonl", ".json"} and delimiter is None):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    yield f"{path}:{n}", json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"not valid JSON ({exc.msg})", where=f"{path}:{n}") from exc
        return
    sep = delimiter or ("\t" if path.suffix in {".tsv", ".txt"} else ",")
    with path.open(encoding="utf-8", newline="") as fh:
        reader: Iterator[Any] = csv.DictReader(fh, delimiter=sep) if header else csv.reader(fh, delimiter=sep)
        for n, row in enumerate(reader, 2 if header else 1):
            yield f"{path}:{n}", row if header else {str(i): v for i, v in enumerate(row)}


def _get(row: dict[str, Any], mapping: dict[str, str], key: str, where: str, required: bool = False) -> str | None:
    col = mapping.get(key)
    if col is None:
        if required:
            raise InputError(f"no column mapped to {key!r}", hint=f"add --map {key}=<column>")
        return None
    if col not in row:
        raise InputError(f"column {col!r} (mapped to {key}) is missing", where=where,
                         hint=f"columns here: {', '.join(map(str, row))[:200]}")
    v = row[col]
    return None if v is None else str(v).strip()


def in_part(record_id: str, part: Literal["train", "test"] | None, test_share: float) -> bool:
    """A deterministic split by record id: the same id is always on the same side, whatever the order."""
    if part is None:
        return True
    bucket = int(hashlib.sha256(record_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return (bucket < test_share) == (part == "test")


def import_records(fmt: str, path: Path, *, as_: Output, mapping: dict[str, str] | None = None,
                   where: dict[str, str] | None = None, delimiter: str | None = None, header: bool = True,
                   limit: int | None = None, skip: int = 0, part: Literal["train", "test"] | None = None,
                   test_share: float = 0.1) -> Iterator[Ticket | Article | EvalCase]:
    """Records in the requested shape; ``part`` keeps one side of a split by id (train/test never
    overlap); ``limit``/``skip`` count records after filtering."""
    m = dict(mapping or {})
    if fmt == "tweetsumm":
        source = _tweetsumm(path)
    elif fmt == "banking77":
        m = {"text": "text", "action": "category", **m}
        source = _mapped(path, m, where, delimiter, header=True)
    elif fmt in {"csv", "jsonl"}:
        source = _mapped(path, m, where, delimiter, header=header)
    else:
        raise InputError(f"unknown format {fmt!r}", hint="tweetsumm, banking77, csv or jsonl")
    n = 0
    kept = ((loc, t, a, e) for loc, t, a, e in source if in_part(t.id, part, test_share))
    for i, (loc, ticket, article, expected) in enumerate(kept):
        if i < skip:
            continue
        if limit is not None and n >= limit:
            return
        n += 1
        if as_ == "articles":
            if article is None:
                raise InputError("this mapping gives no article", where=loc, hint="map body= (and title=, id=)")
            yield article
        elif as_ == "tickets":
            yield ticket
        else:
            if ticket.agent_replies():
                case = to_case(ticket)
            else:
                case = EvalCase(id=ticket.id, ticket=ticket.model_copy(update={"actions": [], "status": "open"}),
                                expected_actions=list(ticket.actions))
            if expected:
                case.expected_sources = [expected]
            if ticket.locale:
                case.language = ticket.locale
            yield case


Record = tuple[str, Ticket, Article | None, str | None]


def _tweetsumm(path: Path) -> Iterator[Record]:
    for loc, row in _rows(path, delimiter=None, header=True, jsonl=True):
        try:
            turns = [Message(author="customer" if t["speaker"] == "customer" else "agent", body=t["text"])
                     for t in row["turns"]]
            yield loc, Ticket(id=str(row["dialog_id"]), brand=row.get("brand"), status="solved", messages=turns,
                              channel="twitter"), None, None
        except (KeyError, TypeError) as exc:
            raise InputError(f"not a TweetSumm dialog (missing {exc})", where=loc,
                             hint='expected {"dialog_id", "brand", "turns": [{"speaker", "text"}]}') from exc


def _mapped(path: Path, m: dict[str, str], where: dict[str, str] | None, delimiter: str | None,
            header: bool) -> Iterator[Record]:
    for loc, row in _rows(path, delimiter=delimiter, header=header):
        if where and any(str(row.get(k, "")).strip() != v for k, v in where.items()):
            continue
        rid = _get(row, m, "id", loc) or loc.rsplit(":", 1)[1]
        text = _get(row, m, "text", loc) or ""
        reply = _get(row, m, "reply", loc)
        action = _get(row, m, "action", loc)
        messages = [Message(author="customer", body=text)] if text else []
        if reply:
            messages.append(Message(author="agent", body=reply))
        ticket = Ticket(id=rid, brand=_get(row, m, "brand", loc), status="solved", messages=messages,
                        actions=[action] if action else [], locale=_get(row, m, "language", loc))
        body = _get(row, m, "body", loc)
        article = Article(id=rid, title=_get(row, m, "title", loc) or "", body=body, brand=ticket.brand) \
            if body else None
        # The expected source of a case: a column holding an article id, or "@id" for the row's own
        # article (question/answer pairs imported both ways from one file).
        source = rid if m.get("source") == "@id" else _get(row, m, "source", loc)
        if source and ":" not in source:
            source = f"article:{source}"
        yield loc, ticket, article, source
