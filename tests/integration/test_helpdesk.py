"""Helpdesk clients and webhooks against a local fake Zendesk/Freshdesk that fails on demand."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from copilot.errors import HelpdeskError
from copilot.feedback import FeedbackStore
from copilot.helpdesks import HelpdeskHTTP, HelpdeskRegistry, RetryableError
from copilot.helpdesks.freshdesk import FreshdeskClient
from copilot.helpdesks.zendesk import ZendeskClient
from copilot.integrations.http.webhooks import generic_signature, webhook_router, zendesk_signature
from copilot.service import Copilot
from tests.helpdesk_fake import FakeHelpdesk, fake_helpdesk

pytestmark = pytest.mark.integration


@pytest.fixture
def fake() -> Iterator[FakeHelpdesk]:
    with fake_helpdesk() as f:
        yield f


def zendesk(fake: FakeHelpdesk, sleeps: list[float] | None = None, **kw: Any) -> ZendeskClient:
    http = HelpdeskHTTP(fake.base_url, auth=("agent@acme.example/token", "zd-token"), name="zendesk",
                        sleep=(sleeps.append if sleeps is not None else lambda s: None), **kw)
    return ZendeskClient(http, brand="acme")


def freshdesk(fake: FakeHelpdesk) -> FreshdeskClient:
    return FreshdeskClient(HelpdeskHTTP(fake.base_url, auth=("fd-key", "X"), name="freshdesk", sleep=lambda s: None),
                           brand="acme")


def test_zendesk_ticket_with_paginated_comments_and_internal_note(fake: FakeHelpdesk) -> None:
    zd = zendesk(fake)
    t = zd.ticket("101")
    assert t.id == "101" and t.customer_name == "Jane" and t.status == "new"
    assert [m.body for m in t.messages] == ["Where is my refund? I returned the chair two weeks ago.",
                                            "My email is jane@example.com"]  # the internal note is not conversation
    assert sum(1 for r in fake.requests if "comments.json" in r[1]) == 2  # two pages
    zd.add_internal_note("101", "Suggested reply")
    assert fake.notes == [("zendesk", "101", {"ticket": {"comment": {"body": "Suggested reply", "public": False}}})]
    assert list(zd.solved_since(0)) == ["102"]


def test_freshdesk_ticket_and_private_note(fake: FakeHelpdesk) -> None:
    fd = freshdesk(fake)
    t = fd.ticket("201")
    assert [m.author for m in t.messages] == ["customer", "customer"] and t.customer_name == "Ann"
    fd.add_internal_note("201", "Line 1\n<b>x</b>")
    fd.add_public_reply("201", "Hello")
    assert fake.notes == [("freshdesk", "201", {"body": "Line 1<br>&lt;b&gt;x&lt;/b&gt;", "private": True}),
                          ("freshdesk-reply", "201", {"body": "Hello"})]


def test_rate_limits_and_outages_are_retried_with_backoff_honouring_retry_after(fake: FakeHelpdesk) -> None:
    sleeps: list[float] = []
    fake.fail += [(429, {"Retry-After": "7"}), (503, {})]
    assert zendesk(fake, sleeps).ticket("101").id == "101"
    assert sleeps == [7.0, 1.0]  # Retry-After, then exponential backoff (0.5 * 2**1)
    fake.fail += [(500, {})] * 4
    with pytest.raises(RetryableError):
        zendesk(fake, []).ticket("101")
    with pytest.raises(HelpdeskError, match="HTTP 404") as err:
        zendesk(fake, []).ticket("999")
    assert not isinstance(err.value, RetryableError) and "does not exist" in (err.value.hint or "")
    bad = ZendeskClient(HelpdeskHTTP(fake.base_url, auth=("x", "y"), sleep=lambda s: None))
    with pytest.raises(HelpdeskError, match="HTTP 401"):
        bad.ticket("101")


def test_a_slow_helpdesk_times_out_as_retryable(fake: FakeHelpdesk) -> None:
    fake.delay_s = 0.5
    with pytest.raises(RetryableError, match="Timeout"):
        zendesk(fake, [], timeout_s=0.1, retries=1).ticket("101")


@pytest.fixture
def hooks(indexed: Copilot, fake: FakeHelpdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from pydantic import SecretStr

    for name, value in (("zendesk_webhook_secret", "zd-secret"), ("freshdesk_webhook_secret", "fd-secret"),
                        ("webhook_secret", "gen-secret")):
        monkeypatch.setattr(indexed.settings, name, SecretStr(value))
    store = FeedbackStore(f"sqlite:///{tmp_path / 'f.db'}")
    cp = Copilot(indexed.settings, config=indexed.config, embedder=indexed.embedder, feedback=store,
                 helpdesks=HelpdeskRegistry({"zendesk": zendesk(fake), "freshdesk": freshdesk(fake)}))
    app = FastAPI()
    app.include_router(webhook_router(cp))
    return TestClient(app), cp, store


def zd_post(client: TestClient, payload: dict[str, Any], *, secret: str = "zd-secret", invocation: str = "inv-1",
            ts: str | None = None) -> Any:
    body = json.dumps(payload).encode()
    ts = ts or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return client.post("/webhooks/zendesk", content=body, headers={
        "Content-Type": "application/json", "X-Zendesk-Webhook-Signature-Timestamp": ts,
        "X-Zendesk-Webhook-Signature": zendesk_signature(secret, ts, body),
        "X-Zendesk-Webhook-Invocation-Id": invocation})


def test_new_zendesk_ticket_gets_a_suggestion_as_internal_note(hooks: Any, fake: FakeHelpdesk) -> None:
    client, cp, store = hooks
    r = zd_post(client, {"event": "ticket_created", "ticket_id": "101"})
    assert r.status_code == 202 and r.json()["status"] == "accepted"
    assert cp.run_jobs() == 1
    [(hd, tid, body)] = fake.notes
    note = body["ticket"]["comment"]
    assert hd == "zendesk" and tid == "101" and note["public"] is False
    assert "Suggested reply (support copilot)" in note["body"] and "5 to 7 business days" in note["body"]
    assert store.shown() == 1


def test_bad_signatures_stale_deliveries_and_bad_payloads_queue_nothing(hooks: Any) -> None:
    client, cp, _ = hooks
    assert zd_post(client, {"event": "ticket_created", "ticket_id": "101"}, secret="wrong").status_code == 401
    old = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert zd_post(client, {"event": "ticket_created", "ticket_id": "101"}, ts=old).status_code == 401
    bad = zd_post(client, {"event": "exploded", "ticket_id": "101"}, invocation="inv-x")
    assert bad.status_code == 422 and "invalid zendesk webhook payload" in bad.json()["error"]["message"]
    r = client.post("/webhooks/freshdesk", json={"event": "ticket_created", "ticket_id": "201"},
                    headers={"X-Copilot-Secret": "nope"})
    assert r.status_code == 401
    assert cp.parts.outbox.jobs() == []


def test_retried_deliveries_are_queued_once(hooks: Any) -> None:
    client, cp, _ = hooks
    for _ in range(3):
        zd_post(client, {"event": "ticket_created", "ticket_id": "101"}, invocation="same")
    assert len(cp.parts.outbox.jobs()) == 1


def test_a_failed_delivery_is_kept_and_retried_never_dropped(hooks: Any, fake: FakeHelpdesk) -> None:
    client, cp, _ = hooks
    zd_post(client, {"event": "ticket_created", "ticket_id": "101"})
    fake.fail += [(503, {})] * 4  # every retry inside the client fails too
    assert cp.run_jobs() == 0
    [job] = cp.parts.outbox.jobs()
    assert job.status == "pending" and job.attempts == 1 and "HTTP 503" in job.last_error
    assert cp.run_jobs() == 0  # not due yet: backoff
    assert cp.parts.outbox.run_due(now=datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=5)) == 1
    assert cp.parts.outbox.jobs()[0].status == "done" and len(fake.notes) == 1


def test_solved_tickets_teach_the_copilot(hooks: Any, indexed: Copilot) -> None:
    client, cp, _ = hooks
    assert zd_post(client, {"event": "ticket_solved", "ticket_id": "102"}, invocation="inv-s").status_code == 202
    cp.run_jobs()
    hits = indexed.search("desk lamp flickering")
    assert hits[0].source_id == "ticket:102" and "dimmer reset" in hits[0].chunk.replies[0]


def test_freshdesk_and_generic_webhooks(hooks: Any, fake: FakeHelpdesk, indexed: Copilot) -> None:
    client, cp, _ = hooks
    r = client.post("/webhooks/freshdesk", json={"event": "ticket_created", "ticket_id": "201"},
                    headers={"X-Copilot-Secret": "fd-secret"})
    assert r.status_code == 202 and cp.run_jobs() == 1
    assert fake.notes[0][0] == "freshdesk" and fake.notes[0][2]["private"] is True
    ticket = {"id": "G1", "status": "solved", "messages": [
        {"author": "customer", "body": "Can I gift wrap a sofa? My phone is +1 415 555 0100"},
        {"author": "agent", "body": "Gift wrapping is not available for sofas, only for items under 5 kg."}]}
    body = json.dumps({"event": "ticket_solved", "ticket": ticket}).encode()
    ts = str(int(time.time()))
    r = client.post("/webhooks/generic", content=body, headers={
        "Content-Type": "application/json", "X-Copilot-Timestamp": ts,
        "X-Copilot-Signature": generic_signature("gen-secret", ts, body)})
    assert r.status_code == 202 and cp.run_jobs() == 1
    hit = indexed.search("gift wrap sofa")[0]
    assert hit.source_id == "ticket:G1" and "415 555 0100" not in hit.chunk.text  # PII removed before storing
    unsigned = client.post("/webhooks/generic", content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401


def test_backfill_ingests_solved_zendesk_tickets(fake: FakeHelpdesk, indexed: Copilot, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from copilot.cli import main

    monkeypatch.setenv("COPILOT_EMBEDDER", "hash")
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("COPILOT_ZENDESK_BASE_URL", fake.base_url)
    monkeypatch.setenv("ZENDESK_EMAIL", "agent@acme.example")
    monkeypatch.setenv("ZENDESK_API_TOKEN", "zd-token")
    assert main(["helpdesk", "backfill", "zendesk", "--since", "2026-01-01"]) == 0
    assert "1 solved tickets read: 1 added" in capsys.readouterr().out
    assert main(["helpdesk", "backfill", "zendesk", "--since", "yesterday"]) == 2


def test_a_zendesk_ticket_reads_the_same_from_an_export_and_from_the_api(fake: FakeHelpdesk, tmp_path: Path) -> None:
    """One mapper: the export importer and the API client agree on authors, notes, names and fields."""
    from copilot.retrieval import load_tickets

    raw = fake.zendesk["102"]
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"tickets": [{**raw["ticket"], "comments": raw["comments"]}], "users": fake.users}),
                      encoding="utf-8")
    [from_export] = load_tickets(export).tickets
    from_api = ZendeskClient(HelpdeskHTTP(fake.base_url, auth=("agent@acme.example/token", "zd-token"))).ticket("102")
    assert from_export == from_api
    assert [m.author for m in from_api.messages] == ["customer", "agent"] and from_api.customer_name == "Jane"
