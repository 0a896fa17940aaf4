"""What is kept at rest holds placeholders, never a customer's personal data.

Everything the service writes about a ticket (the suggestion shown and the ticket it answers, the
text an agent sent, a queued webhook's ticket) is masked first: each piece of personal data
becomes a numbered placeholder (``[EMAIL_1]``, ``[NAME_1]``), one numbering per record, so the same
e-mail is the same placeholder in the ticket, the reply and the sent text. The lifecycle needs no
more: a regenerate or a rewrite works on the masked ticket, and evaluation exports the masked text.

Only a "Send" pressed later needs the originals back (the greeting's name, the order number a reply
names). For that, and only when an operator configures a key (``COPILOT_DATA_KEY``), the
placeholder -> value map of a record is kept *encrypted* (Fernet: AES-128-CBC + HMAC-SHA256) for
``COPILOT_DATA_RETENTION_HOURS``; after that the token no longer decrypts (Fernet's own timestamp)
and the row is deleted. Without a key nothing but placeholders is ever written, and a reply that
still needs the customer's data is refused at send time instead of reaching the customer with
placeholders in it.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, Text, delete
from sqlalchemy.orm import Mapped, mapped_column

from copilot.errors import ConfigError, InputError
from copilot.feedback import Base, FeedbackStore
from copilot.models import FeedbackRecord, ShownSuggestion, Suggestion, Ticket
from copilot.pii import redact, restore

__all__ = ["Mask", "Vault", "require_resolved", "same_reply", "unresolved_placeholders"]

_NUMBERED = re.compile(r"\[([A-Z][A-Z_]*?)_(\d+)\]")


def unresolved_placeholders(text: str) -> list[str]:
    """Numbered placeholders still in a text (personal data that could not be put back)."""
    return list(dict.fromkeys(m.group(0) for m in _NUMBERED.finditer(text)))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC: SQLite keeps no zone


class _SealedRow(Base):
    __tablename__ = "sealed"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class Mask:
    """Numbered placeholders shared by every field of one record (a ticket and its suggestion)."""

    def __init__(self, entities: dict[str, str] | None = None) -> None:
        self.entities: dict[str, str] = dict(entities or {})
        self._by_value = {v: k for k, v in self.entities.items()}
        self._n: dict[str, int] = {}
        for ph in self.entities:
            m = _NUMBERED.fullmatch(ph)
            if m:
                self._n[m.group(1)] = max(self._n.get(m.group(1), 0), int(m.group(2)))
        self._known: re.Pattern[str] | None = None

    def placeholder(self, kind: str, value: str) -> str:
        if value in self._by_value:
            return self._by_value[value]
        self._n[kind] = self._n.get(kind, 0) + 1
        ph = f"[{kind}_{self._n[kind]}]"
        self.entities[ph] = value
        self._by_value[value] = ph
        self._known = None
        return ph

    def text(self, text: str | None, *, find: bool = True) -> str | None:
        """The text with personal data replaced: what the redactor finds (``find``), and every value
        this record already knows (a customer's name outside any greeting pattern)."""
        if not text:
            return text
        out = text
        if find:
            r = redact(text, numbered=True)
            local = {ph: self.placeholder(m.group(1), v) for ph, v in r.entities.items()
                     if (m := _NUMBERED.fullmatch(ph))}
            out = _NUMBERED.sub(lambda m: local.get(m.group(0), m.group(0)), r.text)
        known = self._known_values()
        return known.sub(lambda m: self._by_value[m.group(0)], out) if known is not None else out

    def _known_values(self) -> re.Pattern[str] | None:
        if self._known is None and self._by_value:
            values = sorted((v for v in self._by_value if len(v.strip()) >= 2), key=len, reverse=True)
            if values:
                # Whole words only where words have edges (a name "An" is not the "An" of "Android").
                alts = [rf"(?<!\w){re.escape(v)}(?!\w)" if v[0].isascii() and v[-1].isascii() else re.escape(v)
                        for v in values]
                self._known = re.compile("|".join(alts))
        return self._known

    def ticket(self, t: Ticket) -> Ticket:
        if t.customer_name and t.customer_name.strip():
            self.placeholder("NAME", t.customer_name.strip())
        return t.model_copy(update={
            "id": self.text(t.id) or "", "subject": self.text(t.subject),
            "customer_name": self._by_value.get((t.customer_name or "").strip(), t.customer_name),
            "tags": [self.text(x) or "" for x in t.tags],
            "messages": [m.model_copy(update={"body": self.text(m.body) or ""}) for m in t.messages]})

    def suggestion(self, s: Suggestion) -> Suggestion:
        """A reply holds no personal data but the customer's own, put back by the checks from this very
        ticket: those values are masked, and nothing else is guessed at (a redactor's false positive in
        the brand's greeting would make the reply unsendable)."""
        return s.model_copy(update={
            "reply": self.text(s.reply, find=False) or "", "ticket_id": self.text(s.ticket_id),
            "unsupported_claims": [self.text(c, find=False) or "" for c in s.unsupported_claims]})


def _restore_ticket(t: Ticket, entities: dict[str, str]) -> Ticket:
    def back(text: str | None) -> str | None:
        return restore(text, entities) if text else text

    name = back(t.customer_name)
    return t.model_copy(update={
        "id": back(t.id) or "", "subject": back(t.subject), "tags": [back(x) or "" for x in t.tags],
        # A name that cannot be put back is no name at all (never "Hi [NAME_1],").
        "customer_name": None if name and unresolved_placeholders(name) else name,
        "messages": [m.model_copy(update={"body": back(m.body) or ""}) for m in t.messages]})


class Vault:
    def __init__(self, store: FeedbackStore, *, key: str | None = None, retention_hours: float = 72.0) -> None:
        Base.metadata.create_all(store.engine)  # the table may be newer than the database
        self._session = store.session
        self.retention = timedelta(hours=retention_hours)
        self._fernet: Any = None
        if key:
            from cryptography.fernet import Fernet

            try:
                self._fernet = Fernet(key.encode())
            except (ValueError, TypeError) as exc:
                raise ConfigError("COPILOT_DATA_KEY is not a valid key",
                                  hint='make one with: python -c "from cryptography.fernet import Fernet; '
                                       'print(Fernet.generate_key().decode())"') from exc

    @property
    def keeps_originals(self) -> bool:
        return self._fernet is not None

    # --- records ---------------------------------------------------------------------------------

    def mask_shown(self, suggestion: Suggestion, ticket: Ticket) -> tuple[Suggestion, Ticket]:
        """Masked copies of a suggestion and its ticket; the originals are sealed under the suggestion's id."""
        mask = Mask()
        masked_ticket = mask.ticket(ticket)
        masked = mask.suggestion(suggestion)
        self._seal(f"suggestion:{suggestion.id}", mask.entities)
        return masked, masked_ticket

    def open_shown(self, shown: ShownSuggestion) -> ShownSuggestion:
        """A shown suggestion with its originals back, when they are kept and not expired."""
        entities = self._open(f"suggestion:{shown.suggestion.id}")
        s = shown.suggestion
        return shown.model_copy(update={
            "ticket": _restore_ticket(shown.ticket, entities),
            "suggestion": s.model_copy(update={
                "reply": restore(s.reply, entities), "ticket_id": restore(s.ticket_id, entities) if s.ticket_id else None,
                "unsupported_claims": [restore(c, entities) for c in s.unsupported_claims]})})

    def mask_feedback(self, rec: FeedbackRecord) -> FeedbackRecord:
        """The record as it may be stored: the sent text and the comment masked with the suggestion's own
        placeholders (so the same e-mail reads the same in both)."""
        mask = Mask(self._open(f"suggestion:{rec.suggestion_id}"))
        return rec.model_copy(update={"final_text": mask.text(rec.final_text), "comment": mask.text(rec.comment)})

    def mask_sent(self, suggestion_id: str, text: str) -> str:
        """A sent text masked like its suggestion's stored reply (to measure the edit between them)."""
        return Mask(self._open(f"suggestion:{suggestion_id}")).text(text) or text

    def mask_ticket(self, ticket: Ticket) -> tuple[Ticket, str]:
        """A masked ticket for a queue, and the key its originals are sealed under."""
        mask = Mask()
        masked = mask.ticket(ticket)
        key = f"ticket:{uuid.uuid4().hex}"
        self._seal(key, mask.entities)
        return masked, key

    def open_ticket(self, ticket: Ticket, key: str | None) -> Ticket:
        return _restore_ticket(ticket, self._open(key) if key else {})

    def forget(self, key: str | None) -> None:
        if key:
            with self._session() as s:
                s.execute(delete(_SealedRow).where(_SealedRow.key == key))
                s.commit()

    # --- sealing ---------------------------------------------------------------------------------

    def _seal(self, key: str, entities: dict[str, str]) -> None:
        if self._fernet is None or not entities:
            return
        token = self._fernet.encrypt(json.dumps(entities, ensure_ascii=False).encode()).decode()
        with self._session() as s:
            s.execute(delete(_SealedRow).where(_SealedRow.expires_at < _now()))  # retention, enforced
            s.merge(_SealedRow(key=key, token=token, expires_at=_now() + self.retention))
            s.commit()

    def _open(self, key: str) -> dict[str, str]:
        if self._fernet is None:
            return {}
        from cryptography.fernet import InvalidToken

        with self._session() as s:
            row = s.get(_SealedRow, key)
            if row is None:
                return {}
            if row.expires_at < _now():
                s.delete(row)
                s.commit()
                return {}
            token = row.token
        try:
            data = json.loads(self._fernet.decrypt(token.encode(), ttl=int(self.retention.total_seconds())))
        except InvalidToken:
            return {}  # another key, or older than the retention period
        return {str(k): str(v) for k, v in data.items()}

    def purge(self) -> int:
        """Delete every sealed map past its retention period; returns how many."""
        with self._session() as s:
            result = s.execute(delete(_SealedRow).where(_SealedRow.expires_at < _now()))
            s.commit()
            return int(getattr(result, "rowcount", 0) or 0)


def same_reply(stored: str, sent: str) -> bool:
    """Is ``sent`` the ``stored`` reply, each placeholder in it standing for one value (the same value
    wherever the same placeholder appears)? "Hi [NAME_1]," is the reply "Hi Maria," was."""
    stored, sent = stored.strip(), sent.strip()
    if stored == sent:
        return True
    held = unresolved_placeholders(stored)
    if not held or len(held) > 3:  # a few short placeholders keep the match cheap (at most 100^3 steps)
        return False
    groups: dict[str, str] = {}
    parts = []
    for piece in re.split(r"(\[[A-Z][A-Z_]*?_\d+\])", stored):
        if piece in held:
            if piece in groups:
                parts.append(f"(?P={groups[piece]})")
            else:
                groups[piece] = f"g{len(groups)}"
                parts.append(f"(?P<{groups[piece]}>[^\n]{{1,100}}?)")
        else:
            parts.append(re.escape(piece))
    return re.fullmatch("".join(parts), sent) is not None


def require_resolved(text: str) -> None:
    """Refuse to deliver a reply that still holds placeholders for the customer's data."""
    left = unresolved_placeholders(text)
    if left:
        raise InputError(
            f"the reply still holds placeholders for the customer's personal data ({', '.join(left[:3])}): "
            "those details are not kept after drafting",
            hint="edit the reply and write the details back, or set COPILOT_DATA_KEY to keep them encrypted "
                 "for COPILOT_DATA_RETENTION_HOURS")
