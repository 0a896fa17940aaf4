"""Nothing private is kept: after every path a ticket can take (suggest through the CLI and HTTP,
feedback, rewrite, helpdesk and generic webhooks including a solved ticket's ingestion, Slack,
POST /v1/tickets), every byte of the data dir and of the logs is searched for each original
piece of personal data. With a key, the originals are kept only encrypted (and come back for Send)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr

from copilot.cli import main
from copilot.config import ApiConfig, ApiToken, SlackChannel
from copilot.feedback import FeedbackStore
from copilot.helpdesks import HelpdeskHTTP, HelpdeskRegistry
from copilot.helpdesks.zendesk import ZendeskClient
from copilot.integrations.http.app import create_app
from copilot.integrations.http.auth import hash_token
from copilot.integrations.http.observability import JsonFormatter
from copilot.integrations.http.webhooks import generic_signature
from copilot.service import Copilot
from copilot.settings import Settings
from tests.helpdesk_fake import FakeHelpdesk, fake_helpdesk
from tests.integration.test_slack import button, interact, post_suggestion
from tests.slack_mock import mock_slack

pytestmark = pytest.mark.integration
TOKEN = "tok-acme"
NAME = "Maria Gonzalez"
PII = ["maria.gonzalez@example.com", "+1 415 555 0134", "4111 1111 1111 1111", "88123456", NAME]
MESSAGE = ("Hello, my email is maria.gonzalez@example.com and my phone is +1 415 555 0134. I paid with card "
           "4111 1111 1111 1111 for order number 88123456. Where is my refund? I returned the chair two weeks ago.")
TICKET = {"id": "R1", "brand": "acme", "customer_name": NAME, "subject": "Refund for maria.gonzalez@example.com",
          "messages": [{"author": "customer", "body": MESSAGE}]}
SOLVED = {**TICKET, "id": "R2", "status": "solved", "messages": [
    {"author": "customer", "body": MESSAGE},
    {"author": "agent", "body": "Hi Maria Gonzalez, we issue the refund within 2 business days; I've noted "
                                "maria.gonzalez@example.com and +1 415 555 0134 on order number 88123456."}]}


def leaks(data_dir: Path, logs: str = "") -> list[tuple[str, str]]:
    found = []
    for f in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        raw = f.read_bytes()
        found += [(str(f.relative_to(data_dir)), v) for v in PII if v.encode() in raw]
    return found + [("logs", v) for v in PII if v in logs]


@pytest.fixture
def logs() -> Iterator[list[str]]:
    """Every log line as the services write it (JSON, through the service's formatter)."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.INFO)
    yield lines
    root.removeHandler(handler)
    root.setLevel(old)


@pytest.fixture
def service(indexed: Copilot, tmp_path: Path) -> Iterator[tuple[Copilot, TestClient, FakeHelpdesk, Path]]:
    with fake_helpdesk() as fake:
        fake.zendesk["101"]["comments"][0]["plain_body"] = MESSAGE
        fake.users[0]["name"] = NAME
        data = tmp_path / "service-data"
        settings = Settings(data_dir=data, embedder="hash")
        settings.webhook_secret = SecretStr("gen-secret")
        cp = Copilot(settings, config=indexed.config.model_copy(update={"api": ApiConfig(
            tokens=[ApiToken(name="acme", sha256=hash_token(TOKEN), brands=["acme"])])}), embedder=indexed.embedder,
            helpdesks=HelpdeskRegistry({"zendesk": ZendeskClient(
                HelpdeskHTTP(fake.base_url, auth=("agent@acme.example/token", "zd-token")))}))
        cp.ingest([indexed.settings.data_dir.parent / "kb.jsonl"], progress=False)
        yield cp, TestClient(create_app(cp)), fake, data


def test_nothing_private_is_kept_on_any_path(service: Any, logs: list[str], monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    cp, client, fake, data = service
    auth = {"Authorization": f"Bearer {TOKEN}"}

    # suggest over HTTP (saved as shown), feedback with the text sent, a rewrite
    s = client.post("/v1/suggestions", json=TICKET, headers=auth).json()
    assert s["reply"].startswith(f"Hi {NAME.split()[0]}") or "Maria" in s["reply"]
    assert leaks(data, "\n".join(logs)) == []
    rewritten = client.post(f"/v1/suggestions/{s['id']}/rewrite", json={"instruction": "shorter"}, headers=auth)
    assert rewritten.status_code == 200 and leaks(data, "\n".join(logs)) == []
    sent = client.post(f"/v1/suggestions/{rewritten.json()['id']}/feedback", headers=auth, json={
        "outcome": "edited", "final_text": f"Hi {NAME}, we wrote to maria.gonzalez@example.com about order number "
                                          "88123456.", "comment": "customer is +1 415 555 0134"})
    assert sent.status_code == 200 and sent.json()["final_text"].startswith(f"Hi {NAME}")  # the caller sees it
    assert leaks(data, "\n".join(logs)) == []
    [rec] = [r for r in cp.feedback_records() if r.suggestion_id == rewritten.json()["id"]]
    assert rec.final_text and "[EMAIL_1]" in rec.final_text  # masked with the suggestion's own placeholders

    # the learning loop: POST /v1/tickets and a generic solved ticket
    assert client.post("/v1/tickets", json={"tickets": [SOLVED]}, headers=auth).json()["added"] == 1
    for event, ticket in (("ticket_solved", {**SOLVED, "id": "R3"}), ("ticket_created", TICKET)):
        body, ts = json.dumps({"event": event, "ticket": ticket}).encode(), str(int(time.time()))
        r = client.post("/webhooks/generic", content=body, headers={
            "Content-Type": "application/json", "X-Copilot-Timestamp": ts,
            "X-Copilot-Signature": generic_signature("gen-secret", ts, body)})
        assert r.status_code == 202
        assert leaks(data, "\n".join(logs)) == []  # queued masked
    # a helpdesk's new ticket: drafted, noted on the ticket, saved as shown
    cp.accept_event("zendesk", "ticket_created", delivery="z1", ticket_id="101")
    assert cp.run_jobs() == 3 and fake.notes
    assert "ticket:R3" in cp.parts.store.sources("acme")
    assert leaks(data, "\n".join(logs)) == []

    # Slack: a message in a watched channel, then Send
    from slack_sdk import WebClient

    from copilot.integrations.slack.app import SlackCopilot

    with mock_slack() as mock:
        app = SlackCopilot(cp, token="xoxb-test", signing_secret="test-signing-secret",
                           client=WebClient(token="xoxb-test", base_url=mock.base_url),
                           channels={"C1": SlackChannel(brand="acme")})
        update = post_suggestion(app, mock, text=MESSAGE)
        interact(app, button("copilot_send", update))
        mock.wait_for("chat.postMessage", 2)
    assert leaks(data, "\n".join(logs)) == []

    # the command line, on the same data dir
    monkeypatch.setenv("COPILOT_EMBEDDER", "hash")
    monkeypatch.setenv("COPILOT_DATA_DIR", str(data))
    ticket_file = data.parent / "ticket.json"
    ticket_file.write_text(json.dumps(TICKET), encoding="utf-8")
    assert main(["suggest", "--ticket", str(ticket_file), "--json"]) == 0
    batch = data.parent / "batch.jsonl"
    batch.write_text(json.dumps(TICKET) + "\n", encoding="utf-8")
    assert main(["suggest", "--batch", str(batch)]) == 0
    capsys.readouterr()
    assert leaks(data, "\n".join(logs)) == []


def test_an_error_that_quotes_a_ticket_is_logged_redacted(logs: list[str]) -> None:
    log = logging.getLogger("copilot.test")
    try:
        raise ValueError(f"cannot parse {MESSAGE}")
    except ValueError:
        log.exception("failed on %s", "maria.gonzalez@example.com")
    assert logs and not any(v in logs[-1] for v in PII[:3])


def test_with_a_key_send_puts_the_customers_data_back_and_nothing_is_readable_at_rest(
        indexed: Copilot, tmp_path: Path) -> None:
    data = tmp_path / "keyed"
    settings = Settings(data_dir=data, embedder="hash", data_key=Fernet.generate_key().decode())
    sent: list[str] = []
    cp = Copilot(settings, config=indexed.config, embedder=indexed.embedder,
                 feedback=FeedbackStore(f"sqlite:///{data / 'feedback.db'}"))
    from copilot.models import Ticket

    s = cp.suggest(Ticket.model_validate(TICKET), channel="slack", context={"channel": "C1"})
    assert s.reply.startswith("Hi Maria Gonzalez,")
    assert leaks(data) == []
    assert cp.get_suggestion(s.id).ticket.customer_name == NAME
    cp.send(s.id, agent="U1", deliver=sent.append)
    assert sent[0].startswith("Hi Maria Gonzalez,") and leaks(data) == []

    unkeyed = Copilot(Settings(data_dir=data, embedder="hash"), config=indexed.config, embedder=indexed.embedder,
                      feedback=FeedbackStore(f"sqlite:///{data / 'feedback.db'}"))
    s2 = unkeyed.suggest(Ticket.model_validate(TICKET), channel="slack", context={"channel": "C1"})
    from copilot.errors import InputError

    with pytest.raises(InputError, match="placeholders"):  # never "Hi [NAME_1]," to a customer
        unkeyed.send(s2.id, agent="U1", deliver=sent.append)
    unkeyed.send(s2.id, agent="U1", deliver=sent.append, final_text="Hi Maria, we refund within 2 business days.")
    assert len(sent) == 2 and leaks(data) == []
