"""A suggestion's life after it is shown: one set of rules (lifecycle) over a durable store."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from copilot.errors import ConflictError, InputError, NotFoundError
from copilot.feedback import FeedbackStore, edit_distance
from copilot.helpdesks import HelpdeskRegistry
from copilot.lifecycle import Lifecycle
from copilot.models import Message, NextAction, Suggestion, Ticket
from copilot.telemetry import AppMetrics

S = Suggestion(id="s1", reply="Refunds take 5 to 7 business days.", language="en", confidence=0.8,
               drafter="embedded", prompt_version="embedded_reply/v2", brand="acme",
               next_actions=[NextAction(id="refund", title="Issue a refund", confidence=0.9)])
T = Ticket(brand="acme", messages=[Message(author="customer", body="Where is my refund?")])


class RecordingHelpdesk:
    name = "zendesk"

    def __init__(self, fail: bool = False) -> None:
        self.replies: list[tuple[str, str]] = []
        self.fail = fail

    def ticket(self, ticket_id: str) -> Ticket:
        return T

    def add_internal_note(self, ticket_id: str, text: str) -> None:
        raise AssertionError("not used")

    def add_public_reply(self, ticket_id: str, text: str) -> None:
        if self.fail:
            raise TimeoutError("zendesk timed out")
        self.replies.append((ticket_id, text))


def lifecycle(tmp_path: Path, *suggestions: Suggestion, client: Any = None, **context: Any) -> Lifecycle:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'f.db'}")
    lc = Lifecycle(store, HelpdeskRegistry({"zendesk": client} if client else {}), AppMetrics())
    for s in suggestions or (S,):
        lc.save(s, T, channel="slack", context=context or {"thread_ts": "1.0"})
    return lc


@pytest.mark.parametrize(("a", "b", "d"), [
    ("a b c", "a b c", 0), ("a b c", "a x c", 1), ("a b c", "a c", 1), ("", "a b", 2), ("a b", "b a", 2),
])
def test_edit_distance_counts_words(a: str, b: str, d: int) -> None:
    assert edit_distance(a, b) == d == edit_distance(b, a)


def test_outcomes_are_recorded_with_what_was_sent_and_survive_a_restart(tmp_path: Path) -> None:
    lc = lifecycle(tmp_path)
    rec = lc.record("s1", "edited", agent="U1", final_text="Refunds take about a week.")
    # 7 words -> 5: three replaced ("5 to 7" -> "about a week."), two deleted.
    assert (rec.edit_distance, rec.edit_ratio, rec.top_action, rec.channel) == (5, round(5 / 7, 4), "refund", "slack")
    again = FeedbackStore(lc.store.url)  # another process, same database
    assert [r.outcome for r in again.records()] == ["edited"]
    shown = again.get_suggestion("s1")
    assert shown.suggestion == S and shown.ticket.messages[0].body == "Where is my refund?"
    assert shown.context == {"thread_ts": "1.0"} and shown.channel == "slack"


def test_what_was_sent_decides_accepted_or_edited(tmp_path: Path) -> None:
    same = lifecycle(tmp_path / "a")
    assert same.record("s1", "edited", final_text=S.reply + "  ").outcome == "accepted"
    changed = lifecycle(tmp_path / "b")
    rec = changed.record("s1", "accepted", final_text="Refunds take a week.")
    assert rec.outcome == "edited" and rec.edit_distance and rec.edit_distance > 0
    default = lifecycle(tmp_path / "c")
    assert default.record("s1", "accepted").final_text == S.reply


def test_a_second_outcome_is_refused_and_the_first_is_kept(tmp_path: Path) -> None:
    lc = lifecycle(tmp_path)
    lc.record("s1", "edited", agent="U1", final_text="Refunds take about a week.")
    with pytest.raises(ConflictError, match="already edited"):
        lc.record("s1", "rejected", agent="U2", reason="wrong_facts")
    assert [(r.outcome, r.agent) for r in lc.records()] == [("edited", "U1")]
    stats = lc.stats()
    assert (stats.seen, stats.edited, stats.rejected, stats.acceptance_rate) == (1, 1, 0, 1.0)


def test_concurrent_outcomes_for_one_suggestion_leave_exactly_one(tmp_path: Path) -> None:
    lc = lifecycle(tmp_path)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def click(i: int) -> None:
        barrier.wait()
        try:
            lc.record("s1", "rejected" if i % 2 else "accepted", agent=f"U{i}", reason="other" if i % 2 else None)
            results.append("ok")
        except ConflictError:
            results.append("conflict")

    threads = [threading.Thread(target=click, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 7 + ["ok"] and len(list(lc.records())) == 1


def test_bad_outcomes_reasons_and_unknown_suggestions_are_clear_errors(tmp_path: Path) -> None:
    lc = lifecycle(tmp_path)
    with pytest.raises(InputError, match="unknown outcome"):
        lc.record("s1", "loved")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown reason"):
        lc.record("s1", "rejected", reason="meh")
    with pytest.raises(InputError, match="needs the text"):
        lc.record("s1", "edited")
    with pytest.raises(InputError, match="empty"):
        lc.record("s1", "accepted", final_text="   ")
    with pytest.raises(NotFoundError, match="unknown suggestion"):
        lc.record("nope", "accepted")
    assert list(lc.records()) == []


def test_another_brands_suggestion_does_not_exist_for_the_caller(tmp_path: Path) -> None:
    lc = lifecycle(tmp_path)
    assert lc.get("s1", brands=["acme"]).suggestion.id == "s1"
    assert lc.get("s1", brands=["*"]).suggestion.id == "s1"
    with pytest.raises(NotFoundError):
        lc.get("s1", brands=["globex"])
    with pytest.raises(NotFoundError):
        lc.record("s1", "accepted", brands=["globex"])
    assert list(lc.records()) == []


def test_send_delivers_to_the_helpdesk_ticket_it_was_shown_on(tmp_path: Path) -> None:
    zd = RecordingHelpdesk()
    lc = lifecycle(tmp_path, client=zd, helpdesk="zendesk", ticket_id="101")
    out = lc.send("s1", agent="U1", final_text="Refunds take a week.")
    assert out.delivered_to == "helpdesk:zendesk" and zd.replies == [("101", "Refunds take a week.")]
    assert out.record.outcome == "edited"
    with pytest.raises(ConflictError):
        lc.send("s1", agent="U1")  # a double click sends nothing twice
    assert len(zd.replies) == 1


def test_a_failed_delivery_undoes_the_outcome_so_the_agent_can_retry(tmp_path: Path) -> None:
    zd = RecordingHelpdesk(fail=True)
    lc = lifecycle(tmp_path, client=zd, helpdesk="zendesk", ticket_id="101")
    with pytest.raises(TimeoutError):
        lc.send("s1", agent="U1")
    assert list(lc.records()) == []
    zd.fail = False
    assert lc.send("s1", agent="U1").record.outcome == "accepted" and zd.replies == [("101", S.reply)]


def test_send_without_a_helpdesk_uses_the_callers_delivery(tmp_path: Path) -> None:
    lc = lifecycle(tmp_path)
    posted: list[str] = []
    out = lc.send("s1", agent="U1", deliver=posted.append)
    assert posted == [S.reply] and out.delivered_to == "slack"

    def broken(text: str) -> None:
        raise ConnectionError("slack is down")

    other = lifecycle(tmp_path / "x")
    with pytest.raises(ConnectionError):
        other.send("s1", deliver=broken)
    assert list(other.records()) == []


def test_deliveries_are_claimed_once(tmp_path: Path) -> None:
    lc = lifecycle(tmp_path)
    assert lc.claim("slack:event:Ev1") and not lc.claim("slack:event:Ev1")
    assert lc.claim("slack:event:Ev2")


def test_stats_per_agent_and_team(tmp_path: Path) -> None:
    lc = lifecycle(tmp_path, *[S.model_copy(update={"id": f"s{i}"}) for i in range(4)])
    lc.record("s0", "accepted", agent="U1")
    lc.record("s1", "rejected", agent="U1", reason="wrong_tone")
    lc.record("s2", "edited", agent="U2", final_text="x")
    mine, team = lc.stats(agent="U1"), lc.stats()
    assert (mine.seen, mine.accepted, mine.rejected, mine.reasons) == (2, 1, 1, {"wrong_tone": 1})
    assert (team.seen, team.accepted, team.edited, team.rejected) == (4, 1, 1, 1) and team.acceptance_rate == 0.5


def test_feedback_analytics_by_dimension_and_report(tmp_path: Path) -> None:
    from copilot.evaluation.feedback_report import analyse, write_feedback_report

    other = {"drafter": "openai:gpt-4o-mini", "prompt_version": "draft_reply/v1"}
    lc = lifecycle(tmp_path, *[S.model_copy(update={"id": f"s{i}", **(other if i >= 2 else {})}) for i in range(4)])
    lc.record("s0", "accepted", agent="U1")
    lc.record("s1", "edited", agent="U1", final_text="Refunds take about a week.")   # ratio 5/7
    lc.record("s2", "rejected", agent="U2", reason="wrong_facts")
    lc.record("s3", "rejected", agent="U2", reason="wrong_facts")
    a = analyse(lc.records())
    assert (a.overall.total, a.overall.acceptance_rate, a.overall.as_is_rate) == (4, 0.5, 0.25)
    assert a.overall.reasons == {"wrong_facts": 2}
    drafters = {g.key: g for g in a.by["drafter"]}
    assert drafters["embedded"].acceptance_rate == 1.0 and drafters["openai:gpt-4o-mini"].rejected == 2
    assert drafters["embedded"].median_edit_ratio == round(5 / 7, 4)
    assert a.edit_ratio_histogram[7] == 1 and sum(a.edit_ratio_histogram) == 1
    html = write_feedback_report(a, tmp_path / "fb.html").read_text(encoding="utf-8")
    assert "acceptance 50%" in html and "<svg" in html and "wrong_facts 2" in html
