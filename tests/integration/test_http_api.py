"""The HTTP service: every endpoint, auth (none, wrong brand, expired), limits and bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from copilot.config import ApiConfig, ApiToken
from copilot.feedback import FeedbackStore
from copilot.integrations.http.app import create_app
from copilot.integrations.http.auth import hash_token
from copilot.service import Copilot

pytestmark = pytest.mark.integration
QUESTION = "Where is my refund? I returned the chair two weeks ago."
ACME, GLOBEX, OLD, ALL = "tok-acme", "tok-globex", "tok-old", "tok-all"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(indexed: Copilot, tmp_path: Path) -> Iterator[tuple[TestClient, FeedbackStore]]:
    indexed.config = indexed.config.model_copy(update={"api": ApiConfig(
        tokens=[ApiToken(name="acme-sidebar", sha256=hash_token(ACME), brands=["acme"]),
                ApiToken(name="globex", sha256=hash_token(GLOBEX), brands=["globex"]),
                ApiToken(name="old", sha256=hash_token(OLD), brands=["acme"], expires=date.today() - timedelta(days=1)),
                ApiToken(name="admin", sha256=hash_token(ALL), brands=["*"])],
        cors_origins=["https://*.zendesk.com"], max_body_bytes=20_000)})
    with TestClient(create_app(indexed)) as client:
        yield client, indexed.parts.feedback


def suggest(client: TestClient, token: str = ACME, **ticket: Any) -> Any:
    body = {"messages": [{"author": "customer", "body": QUESTION}], **ticket}
    return client.post("/v1/suggestions", json=body, headers=bearer(token))


def test_suggestion_for_a_ticket_is_grounded_saved_and_traced(api: Any) -> None:
    client, store = api
    r = suggest(client)
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["brand"] == "acme" and "5 to 7 business days" in s["reply"] and s["citations"] and s["next_actions"]
    assert store.get_suggestion(s["id"]).suggestion.reply == s["reply"]
    assert r.headers["X-Request-ID"]
    r2 = client.post("/v1/suggestions", json={"messages": [{"author": "customer", "body": QUESTION}]},
                     headers={**bearer(ACME), "X-Request-ID": "helpdesk-42"})
    assert r2.headers["X-Request-ID"] == "helpdesk-42"


@pytest.mark.parametrize(("headers", "status", "code"), [
    ({}, 401, "unauthorized"),
    ({"Authorization": "Bearer nope"}, 401, "unauthorized"),
    (bearer(OLD), 401, "unauthorized"),
    (bearer(GLOBEX), 403, "forbidden"),
])
def test_auth_failures_are_clear_and_write_nothing(api: Any, headers: dict[str, str], status: int, code: str) -> None:
    client, store = api
    r = client.post("/v1/suggestions", json={"brand": "acme", "messages": [{"author": "customer", "body": QUESTION}]},
                    headers=headers)
    assert r.status_code == status and r.json()["error"]["code"] == code and r.json()["error"]["message"]
    assert store.shown() == 0


def test_an_expired_token_tells_the_agent_to_ask_the_admin_and_logs_the_command(
        api: Any, caplog: pytest.LogCaptureFixture) -> None:
    client, _ = api
    with caplog.at_level("WARNING"):
        r = client.get("/v1/search", params={"q": "refund", "brand": "acme"}, headers=bearer(OLD))
    error = r.json()["error"]
    assert r.status_code == 401 and "expired" in error["message"] and "admin" in error["hint"]
    assert "copilot token create" not in r.text  # the agent in a helpdesk cannot run it
    assert any("copilot token create" in m and "'old'" in m for m in caplog.messages)


def test_a_brand_token_never_reads_or_cites_another_brand(api: Any) -> None:
    client, _ = api
    assert suggest(client, GLOBEX).json()["brand"] == "globex"  # its own brand: no acme evidence cited
    assert all(not c["source_id"].startswith("article:refunds") for c in suggest(client, GLOBEX).json()["citations"])
    assert client.get("/v1/search", params={"q": "refund", "brand": "acme"}, headers=bearer(GLOBEX)).status_code == 403
    acme_s = suggest(client).json()
    r = client.post(f"/v1/suggestions/{acme_s['id']}/feedback", json={"outcome": "accepted"}, headers=bearer(GLOBEX))
    assert r.status_code == 404  # another brand's suggestion does not exist for this token
    assert suggest(client, ALL, brand="acme").status_code == 200
    unknown = suggest(client, ALL, brand="acmee")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_brand"
    assert "acme" in unknown.json()["error"]["hint"]


def test_feedback_is_recorded_with_edit_distance_and_bad_input_is_refused(api: Any) -> None:
    client, store = api
    s = suggest(client).json()
    url = f"/v1/suggestions/{s['id']}/feedback"
    r = client.post(url, json={"outcome": "edited", "final_text": s["reply"] + " Thanks!", "agent": "maria"},
                    headers=bearer(ACME))
    assert r.status_code == 200 and r.json()["edit_distance"] == 1 and r.json()["agent"] == "maria"
    bad = client.post(url, json={"outcome": "loved"}, headers=bearer(ACME))
    assert bad.status_code == 422 and bad.json()["error"]["where"] == "body.outcome"
    missing = client.post("/v1/suggestions/nope/feedback", json={"outcome": "accepted"}, headers=bearer(ACME))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert [x.outcome for x in store.records()] == ["edited"]


def test_a_second_outcome_is_a_conflict_and_the_first_stays(api: Any) -> None:
    client, store = api
    s = suggest(client).json()
    url = f"/v1/suggestions/{s['id']}/feedback"
    first = client.post(url, json={"outcome": "edited", "final_text": "Refunds take a week."}, headers=bearer(ACME))
    assert first.status_code == 200
    for second in ({"outcome": "rejected", "reason": "wrong_facts"}, {"outcome": "accepted"},
                   {"outcome": "edited", "final_text": "Something else."}):
        r = client.post(url, json=second, headers=bearer(ACME))
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict", r.text
        assert "already edited" in r.json()["error"]["message"] and r.json()["error"]["request_id"]
    [rec] = list(store.records())
    assert (rec.outcome, rec.final_text) == ("edited", "Refunds take a week.")
    assert store.stats().acceptance_rate == 1.0  # one suggestion, one outcome: never "50%"
    metrics = client.get("/metrics").text
    assert 'copilot_feedback_conflicts_total{brand="acme"} 3.0' in metrics


def test_rewrite_returns_a_new_saved_suggestion(api: Any) -> None:
    client, store = api
    s = suggest(client).json()
    r = client.post(f"/v1/suggestions/{s['id']}/rewrite", json={"instruction": "friendlier"}, headers=bearer(ACME))
    assert r.status_code == 200 and r.json()["id"] != s["id"] and r.json()["reply"] != s["reply"]
    assert store.get_suggestion(r.json()["id"])
    empty = client.post(f"/v1/suggestions/{s['id']}/rewrite", json={"instruction": ""}, headers=bearer(ACME))
    assert empty.status_code == 422


def test_search_returns_scored_hits_of_the_tokens_brand(api: Any) -> None:
    client, _ = api
    r = client.get("/v1/search", params={"q": "refund bank business days", "k": 3}, headers=bearer(ACME))
    assert r.status_code == 200 and len(r.json()) == 3 and r.json()[0]["score"] > 0
    assert client.get("/v1/search", params={"q": ""}, headers=bearer(ACME)).status_code == 422
    assert client.get("/v1/search", params={"q": "x", "k": 500}, headers=bearer(ACME)).status_code == 422


def test_ingest_takes_resolved_tickets_and_skips_open_ones(api: Any) -> None:
    client, _ = api
    body = {"tickets": [
        {"id": "N1", "status": "solved", "messages": [
            {"author": "customer", "body": "The desk lamp flickers when dimmed"},
            {"author": "agent", "body": "Hold the switch for 10 seconds to reset the dimmer."}]},
        {"id": "N2", "status": "open", "messages": [{"author": "customer", "body": "Hello?"}]}]}
    r = client.post("/v1/tickets", json=body, headers=bearer(ACME))
    assert r.status_code == 200 and r.json() == {"added": 1, "updated": 0, "unchanged": 0, "skipped": ["N2"],
                                                  "quarantined": []}
    hits = client.get("/v1/search", params={"q": "lamp flickers dimmed"}, headers=bearer(ACME)).json()
    assert hits[0]["source_id"] == "ticket:N1"
    assert client.post("/v1/tickets", json={"tickets": []}, headers=bearer(ACME)).status_code == 422
    assert client.post("/v1/tickets", json={**body, "brand": "globex"}, headers=bearer(ACME)).status_code == 403


def test_oversized_and_malformed_bodies_are_4xx_and_nothing_is_written(api: Any) -> None:
    client, store = api
    big = {"messages": [{"author": "customer", "body": "x" * 30_000}]}
    r = client.post("/v1/suggestions", json=big, headers=bearer(ACME))
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    r = client.post("/v1/suggestions", content=b'{"messages": [', headers={**bearer(ACME),
                                                                           "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
    r = client.post("/v1/suggestions", json={"messages": [{"author": "agent", "body": "hi"}]}, headers=bearer(ACME))
    assert r.status_code == 422 and "customer" in r.json()["error"]["hint"]
    assert store.shown() == 0


def test_cors_allows_only_configured_helpdesk_origins(api: Any) -> None:
    client, _ = api
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    ok = client.options("/v1/suggestions", headers={"Origin": "https://acme.zendesk.com", **pre})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://acme.zendesk.com"
    bad = client.options("/v1/suggestions", headers={"Origin": "https://evil.example", **pre})
    assert "access-control-allow-origin" not in bad.headers
    sneaky = client.options("/v1/suggestions", headers={"Origin": "https://acme.zendesk.com.evil.example", **pre})
    assert "access-control-allow-origin" not in sneaky.headers


def test_health_readiness_metrics_and_docs(api: Any) -> None:
    client, _ = api
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"index": "ok", "feedback_store": "ok"}
    s = suggest(client).json()
    client.post(f"/v1/suggestions/{s['id']}/feedback", json={"outcome": "accepted"}, headers=bearer(ACME))
    suggest(client)
    client.post("/v1/suggestions", json={}, headers={})
    text = client.get("/metrics").text
    assert 'copilot_http_requests_total{method="POST",route="/v1/suggestions",status="200"} 2.0' in text
    assert 'copilot_http_requests_total{method="POST",route="/v1/suggestions",status="401"} 1.0' in text
    assert 'copilot_feedback_total{brand="acme",outcome="accepted"} 1.0' in text
    assert 'copilot_suggestions_total{brand="acme",drafter="embedded"} 2.0' in text
    assert "copilot_http_request_seconds_bucket" in text
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/suggestions", "/v1/suggestions/{suggestion_id}/feedback", "/v1/search", "/v1/tickets"} <= set(paths)


def test_request_logs_are_json_with_the_request_id(api: Any, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from copilot.integrations.http.observability import JsonFormatter

    client, _ = api
    with caplog.at_level(logging.INFO, logger="copilot.http"):
        client.get("/healthz", headers={"X-Request-ID": "abc123"})
    line = json.loads(JsonFormatter().format(caplog.records[-1]))
    assert line["request_id"] == "abc123" and line["status"] == 200 and line["path"] == "/healthz"
