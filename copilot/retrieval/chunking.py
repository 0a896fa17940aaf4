"""Source -> chunks, redacted, each suited to how it will be used.

Articles are split by section (markdown headings, which the HTML loader also
produces) so a citation points at the passage that answers; long sections are
split again into windows of whole sentences, each carrying the section's title
and heading and overlapping its neighbour by one sentence, so the sentence that
answers is never cut and never lands in a piece without its heading. A ticket becomes one chunk: the customer's problem
(what a new ticket will resemble) plus the agent's resolution (what the
drafter reuses).
"""

from __future__ import annotations

import hashlib
import json
import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

from copilot.language import detect_language
from copilot.models import Article, Chunk, Ticket
from copilot.pii import ALL_KINDS, ARTICLE_KINDS, redact
from copilot.text import split_sentences

__all__ = ["article_chunks", "content_hash", "ticket_chunks"]

MAX_SECTION_CHARS = 1200
MIN_SECTION_CHARS = 120
# A ticket's own id is a ticket number: only personal data inside it (an e-mail) is hidden.
_ID_KINDS = ALL_KINDS - {"ORDER_NUMBER"}
WINDOW_CHARS = 1000
_HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SPLITTER = RecursiveCharacterTextSplitter(
    chunk_size=1000, chunk_overlap=120, separators=["\n\n", "\n", ". ", "。", "! ", "? ", " ", ""]
)


def content_hash(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def _sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) pairs; text before the first heading has an empty heading."""
    out: list[tuple[str, str]] = []
    last_end, heading = 0, ""
    for m in _HEADING.finditer(body):
        out.append((heading, body[last_end : m.start()].strip()))
        heading, last_end = m.group(2).strip(), m.end()
    out.append((heading, body[last_end:].strip()))
    return [(h, t) for h, t in out if t or h]


def _windows(text: str) -> list[str]:
    """Whole sentences packed into windows of at most WINDOW_CHARS, each starting with the last
    sentence of the one before; a single longer sentence is cut by the character splitter."""
    sents: list[str] = []
    for para in text.split("\n"):
        for sent in split_sentences(para):
            sents += _SPLITTER.split_text(sent) if len(sent) > WINDOW_CHARS else [sent]
    out: list[list[str]] = [[]]
    for sent in sents:
        if out[-1] and len(" ".join([*out[-1], sent])) > WINDOW_CHARS:
            carried = out[-1][-1:] if len(out[-1]) > 1 and len(out[-1][-1]) + len(sent) < WINDOW_CHARS else []
            out.append(carried)
        out[-1].append(sent)
    return [" ".join(w) for w in out if w]


def article_chunks(article: Article, brand: str) -> list[Chunk]:
    body = redact(article.body, kinds=ARTICLE_KINDS).text
    title = redact(article.title, kinds=ARTICLE_KINDS).text
    tags = [redact(t, kinds=ARTICLE_KINDS).text for t in article.tags]
    merged: list[tuple[str, str]] = []
    for heading, text in _sections(body):
        if heading == title and not text:
            continue
        if merged and len(merged[-1][1]) < MIN_SECTION_CHARS:
            prev_h, prev_t = merged[-1]
            merged[-1] = (prev_h or heading, f"{prev_t}\n\n{heading}\n{text}".strip() if heading else f"{prev_t}\n{text}")
        else:
            merged.append((heading, text))
    pieces: list[tuple[str, str]] = []
    for heading, text in merged:
        if len(text) > MAX_SECTION_CHARS:
            pieces.extend((heading, part) for part in _windows(text))
        elif text:
            pieces.append((heading, text))
    if not pieces:
        pieces = [("", body.strip() or title)]
    locale = (article.locale or detect_language(f"{title}\n{body[:500]}")).split("-")[0].lower()
    source_id = f"article:{article.id}"
    # An article for customers hashes as before the field existed: an upgrade re-embeds nothing.
    source_hash = content_hash([article.model_dump(exclude={"audience"} if article.audience == "customer" else None),
                                brand])
    chunks = []
    for i, (heading, text) in enumerate(pieces):
        section_title = f"{title} › {heading}" if heading and heading != title else title
        chunks.append(Chunk(
            id=f"{source_id}#{i}", source_id=source_id, kind="article", text=f"{section_title}\n{text}",
            title=section_title, brand=brand, locale=locale, url=article.url or "", tags=tags,
            chunk_index=i, n_chunks=len(pieces), source_hash=source_hash, audience=article.audience,
        ))
    return chunks


def _hashed(ticket: Ticket) -> dict[str, object]:
    # A ticket without a channel hashes as before the field existed: an upgrade re-embeds nothing.
    return ticket.model_dump(exclude={"channel"} if ticket.channel is None else None)


def ticket_chunks(ticket: Ticket, brand: str) -> list[Chunk]:
    # The opening customer messages (before the first agent reply) describe
    # the problem the way a new ticket will; later turns are follow-ups.
    opening: list[str] = []
    for m in ticket.messages:
        if m.author == "agent":
            break
        opening.append(m.body)
    if not opening:
        opening = [m.body for m in ticket.messages if m.author == "customer"]
    problem = "\n".join(([ticket.subject] if ticket.subject else []) + opening)
    problem = redact(problem, kinds=ALL_KINDS).text.strip()
    replies = [redact(r, kinds=ALL_KINDS).text.strip() for r in ticket.agent_replies()]
    locale = (ticket.locale or detect_language(problem)).split("-")[0].lower()
    source_id = f"ticket:{_public_id(ticket.id)}"
    title = redact(ticket.subject, kinds=ALL_KINDS).text if ticket.subject else problem.split("\n")[0][:80]
    return [Chunk(
        id=f"{source_id}#0", source_id=source_id, kind="ticket", text=problem, title=title, brand=brand,
        locale=locale, tags=[redact(t, kinds=ALL_KINDS).text for t in ticket.tags], actions=ticket.actions,
        replies=replies, source_hash=content_hash([_hashed(ticket), brand]),
        channel=ticket.channel or "",
    )]


def _public_id(ticket_id: str) -> str:
    """The ticket id, or a stable pseudonym where the id itself is personal data (an e-mail used as
    a ticket id): same id, same pseudonym, so incremental ingest and citations still work. A
    helpdesk's numeric id, or one that merely looks like a ticket number, is kept."""
    if (ticket_id.isdigit() and len(ticket_id) <= 9) or redact(ticket_id, kinds=_ID_KINDS).text == ticket_id:
        return ticket_id
    return "redacted-" + hashlib.sha256(ticket_id.encode()).hexdigest()[:16]
