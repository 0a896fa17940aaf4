"""Slack and the HTTP API follow one set of rules for a suggestion's outcome (the application layer's):
whichever channel records it first, the other is refused and the stored outcome stays as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from copilot.config import ApiConfig, ApiToken, SlackChannel
from copilot.integrations.http.app import create_app
from copilot.integrations.http.auth import hash_token
from copilot.integrations.slack.app import SlackCopilot
from copilot.service import Copilot
from tests.integration.test_slack import SECRET, button, interact, post_suggestion
from tests.slack_mock import MockSlack, mock_slack

pytestmark = pytest.mark.integration
TOKEN = "tok-acme"


@pytest.fixture
def both(indexed: Copilot) -> Iterator[tuple[SlackCopilot, MockSlack, TestClient]]:
    from slack_sdk import WebClient

    indexed.config = indexed.config.model_copy(update={"api": ApiConfig(
        tokens=[ApiToken(name="sidebar", sha256=hash_token(TOKEN), brands=["acme"])])})
    with mock_slack() as mock, TestClient(create_app(indexed)) as http:
        slack = SlackCopilot(indexed, token="xoxb-test", signing_secret=SECRET,
                             client=WebClient(token="xoxb-test", base_url=mock.base_url),
                             channels={"C1": SlackChannel(brand="acme")})
        yield slack, mock, http


def sid_of(update: dict[str, Any]) -> str:
    return str(next(b for b in update["blocks"] if b["type"] == "actions")["elements"][0]["value"])


def test_sent_in_slack_then_rejected_over_http_is_a_conflict(both: Any, indexed: Copilot) -> None:
    slack, mock, http = both
    update = post_suggestion(slack, mock)
    interact(slack, button("copilot_send", update))
    mock.wait_for("chat.update", where=lambda c: "sent it as is" in json.dumps(c.args.get("blocks")))
    r = http.post(f"/v1/suggestions/{sid_of(update)}/feedback", json={"outcome": "rejected", "reason": "other"},
                  headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert [rec.outcome for rec in indexed.feedback_records()] == ["accepted"]


def test_edited_over_http_then_sent_in_slack_is_refused(both: Any, indexed: Copilot) -> None:
    slack, mock, http = both
    update = post_suggestion(slack, mock)
    r = http.post(f"/v1/suggestions/{sid_of(update)}/feedback",
                  json={"outcome": "edited", "final_text": "Refunds take about a week."},
                  headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["outcome"] == "edited"
    interact(slack, button("copilot_send", update))
    note = mock.wait_for("chat.postEphemeral")[0].args
    assert "already handled" in note["text"]
    assert len(mock.of("chat.postMessage")) == 1  # only the placeholder: nothing was sent twice
    assert [(rec.outcome, rec.final_text) for rec in indexed.feedback_records()] == [
        ("edited", "Refunds take about a week.")]
