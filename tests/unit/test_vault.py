"""What is kept at rest: placeholders, and the originals only encrypted, only for the retention period."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import update

from copilot.errors import ConfigError, InputError
from copilot.feedback import FeedbackStore
from copilot.models import FeedbackRecord, Message, ShownSuggestion, Suggestion, Ticket
from copilot.vault import Mask, Vault, _now, _SealedRow, require_resolved

TICKET = Ticket(id="T-9", subject="Refund for jane.doe@example.com", customer_name="Jane Doe", tags=["vip"],
                messages=[Message(author="customer", body="Hi, I'm Jane Doe. Card 4111 1111 1111 1111, "
                                                          "email jane.doe@example.com, where is my refund?")])
SUGGESTION = Suggestion(id="s1", reply="Hi Jane Doe,\n\nWe will write to jane.doe@example.com today.",
                        language="en", confidence=0.8, drafter="embedded", ticket_id="T-9")
RAW = ["jane.doe@example.com", "Jane Doe", "4111 1111 1111 1111"]


def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(f"sqlite:///{tmp_path / 'f.db'}")


def test_one_numbering_per_record_across_every_field() -> None:
    mask = Mask()
    ticket = mask.ticket(TICKET)
    reply = mask.suggestion(SUGGESTION).reply
    dumped = ticket.model_dump_json() + reply
    assert not any(v in dumped for v in RAW)
    email = next(ph for ph, v in mask.entities.items() if v == "jane.doe@example.com")
    name = next(ph for ph, v in mask.entities.items() if v == "Jane Doe")
    assert ticket.customer_name == name and email in ticket.subject and email in reply and reply.startswith(f"Hi {name},")


def test_without_a_key_only_placeholders_are_kept_and_a_placeholder_reply_cannot_be_sent(tmp_path: Path) -> None:
    vault = Vault(store(tmp_path))
    masked, masked_ticket = vault.mask_shown(SUGGESTION, TICKET)
    opened = vault.open_shown(ShownSuggestion(suggestion=masked, ticket=masked_ticket))
    assert opened.suggestion.reply == masked.reply and opened.ticket.customer_name is None  # never "Hi [NAME_1],"
    with pytest.raises(InputError, match="placeholders"):
        require_resolved(opened.suggestion.reply)
    assert not any(v.encode() in (tmp_path / "f.db").read_bytes() for v in RAW)


def test_with_a_key_the_originals_come_back_until_the_retention_period_ends(tmp_path: Path) -> None:
    s = store(tmp_path)
    vault = Vault(s, key=Fernet.generate_key().decode(), retention_hours=1)
    masked, masked_ticket = vault.mask_shown(SUGGESTION, TICKET)
    opened = vault.open_shown(ShownSuggestion(suggestion=masked, ticket=masked_ticket))
    assert opened.suggestion.reply == SUGGESTION.reply and opened.ticket == TICKET
    rec = vault.mask_feedback(FeedbackRecord(suggestion_id="s1", outcome="edited",
                                             final_text="Hi Jane Doe, done: jane.doe@example.com"))
    assert rec.final_text is not None and "Jane Doe" not in rec.final_text and "[EMAIL_1]" in rec.final_text
    assert not any(v.encode() in (tmp_path / "f.db").read_bytes() for v in RAW)  # encrypted at rest
    with s.session() as db:  # an hour later
        db.execute(update(_SealedRow).values(expires_at=_now() - timedelta(seconds=1)))
        db.commit()
    assert vault.open_shown(ShownSuggestion(suggestion=masked, ticket=masked_ticket)).suggestion.reply == masked.reply
    vault.mask_shown(SUGGESTION.model_copy(update={"id": "s2"}), TICKET)  # every write purges what expired
    with s.session() as db:
        assert db.query(_SealedRow).count() == 1


def test_another_key_opens_nothing_and_a_bad_key_is_a_clear_error(tmp_path: Path) -> None:
    s = store(tmp_path)
    masked, masked_ticket = Vault(s, key=Fernet.generate_key().decode()).mask_shown(SUGGESTION, TICKET)
    other = Vault(s, key=Fernet.generate_key().decode())
    assert other.open_shown(ShownSuggestion(suggestion=masked, ticket=masked_ticket)).suggestion.reply == masked.reply
    with pytest.raises(ConfigError, match="COPILOT_DATA_KEY"):
        Vault(s, key="not-a-key")
