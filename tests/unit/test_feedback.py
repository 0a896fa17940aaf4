"""The feedback store: outcomes, idempotency, stats, durability."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.errors import InputError, NotFoundError
from copilot.feedback import FeedbackStore, edit_distance
from copilot.models import Message, NextAction, Suggestion, Ticket

S = Suggestion(id="s1", reply="Refunds take 5 to 7 business days.", language="en", confidence=0.8,
               drafter="embedded", prompt_version="embedded_reply/v1", brand="acme",
               next_actions=[NextAction(id="refund", title="Issue a refund", confidence=0.9)])
T = Ticket(brand="acme", messages=[Message(author="customer", body="Where is my refund?")])


@pytest.mark.parametrize(("a", "b", "d"), [
    ("a b c", "a b c", 0), ("a b c", "a x c", 1), ("a b c", "a c", 1), ("", "a b", 2), ("a b", "b a", 2),
])
def test_edit_distance_counts_words(a: str, b: str, d: int) -> None:
    assert edit_distance(a, b) == d == edit_distance(b, a)


def test_outcomes_are_recorded_with_what_was_sent_and_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    store = FeedbackStore(url)
    store.save_suggestion(S, T, channel="C1", context={"thread_ts": "1.0"})
    rec = store.record(S, "edited", agent="U1", final_text="Refunds take about a week.")
    # 7 words -> 5: three replaced ("5 to 7" -> "about a week."), two deleted.
    assert (rec.edit_distance, rec.edit_ratio, rec.top_action) == (5, round(5 / 7, 4), "refund")
    again = FeedbackStore(url)  # another process, same database
    assert [r.outcome for r in again.records()] == ["edited"]
    s, t, ctx = again.get_suggestion("s1")
    assert s == S and t.messages[0].body == "Where is my refund?" and ctx == {"thread_ts": "1.0"}


def test_bad_outcomes_and_unknown_suggestions_are_clear_errors(tmp_path: Path) -> None:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'f.db'}")
    with pytest.raises(InputError, match="unknown outcome"):
        store.record(S, "loved", agent="U1")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown reason"):
        store.record(S, "rejected", reason="meh")
    with pytest.raises(NotFoundError, match="unknown suggestion"):
        store.get_suggestion("nope")
    assert list(store.records()) == []


def test_deliveries_are_handled_once(tmp_path: Path) -> None:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'f.db'}")
    assert store.first_time("slack:event:Ev1") and not store.first_time("slack:event:Ev1")
    assert store.first_time("slack:event:Ev2")


def test_stats_per_agent_and_team(tmp_path: Path) -> None:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'f.db'}")
    for i in range(4):
        store.save_suggestion(S.model_copy(update={"id": f"s{i}"}), T)
    store.record(S, "accepted", agent="U1", final_text=S.reply)
    store.record(S, "rejected", agent="U1", reason="wrong_tone")
    store.record(S, "edited", agent="U2", final_text="x")
    mine, team = store.stats(agent="U1"), store.stats()
    assert (mine.seen, mine.accepted, mine.rejected, mine.reasons) == (2, 1, 1, {"wrong_tone": 1})
    assert (team.seen, team.accepted, team.edited, team.rejected) == (4, 1, 1, 1) and team.acceptance_rate == 0.5


def test_feedback_analytics_by_dimension_and_report(tmp_path: Path) -> None:
    from copilot.evaluation.feedback_report import analyse, write_feedback_report

    store = FeedbackStore(f"sqlite:///{tmp_path / 'f.db'}")
    other = S.model_copy(update={"id": "s2", "drafter": "openai:gpt-4o-mini", "prompt_version": "draft_reply/v1"})
    store.record(S, "accepted", agent="U1", final_text=S.reply)
    store.record(S, "edited", agent="U1", final_text="Refunds take about a week.")   # ratio 5/7
    store.record(other, "rejected", agent="U2", reason="wrong_facts")
    store.record(other, "rejected", agent="U2", reason="wrong_facts")
    a = analyse(store)
    assert (a.overall.total, a.overall.acceptance_rate, a.overall.as_is_rate) == (4, 0.5, 0.25)
    assert a.overall.reasons == {"wrong_facts": 2}
    drafters = {g.key: g for g in a.by["drafter"]}
    assert drafters["embedded"].acceptance_rate == 1.0 and drafters["openai:gpt-4o-mini"].rejected == 2
    assert drafters["embedded"].median_edit_ratio == round(5 / 7, 4)
    assert a.edit_ratio_histogram[7] == 1 and sum(a.edit_ratio_histogram) == 1
    html = write_feedback_report(a, tmp_path / "fb.html").read_text(encoding="utf-8")
    assert "acceptance 50%" in html and "<svg" in html and "wrong_facts 2" in html
