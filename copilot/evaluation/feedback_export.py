"""Agents' feedback as graded evaluation cases: a suggestion sent as is is a reply a person graded A.

Each exported case is the ticket as the agent saw it, the text finally sent as the reference reply,
and the suggestion's reply with its grade, so `copilot eval run` on these cases tells whether another
drafter (or prompt) still writes what agents accepted, and whether confidence ranks it.

Grades by outcome (the team's rubric): accepted -> A; edited -> B when under 20% of the words changed,
else C; rejected -> C when the reason was the tone, else D. Ignored suggestions say nothing and are
never exported. Feedback is read through the copilot's public interface.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from copilot.errors import NotFoundError
from copilot.evaluation.cases import EvalCase
from copilot.evaluation.grading import Grade, GradedReply
from copilot.models import FeedbackRecord

if TYPE_CHECKING:
    from copilot.service import Copilot

__all__ = ["ExportedFeedback", "export_feedback", "grade_of"]

SMALL_EDIT = 0.2


@dataclass
class ExportedFeedback:
    cases: list[EvalCase] = field(default_factory=list)
    grades: dict[str, int] = field(default_factory=dict)
    missing: int = 0          # feedback naming a suggestion the store no longer has


def grade_of(record: FeedbackRecord) -> Grade | None:
    if record.outcome == "accepted":
        return "A"
    if record.outcome == "edited":
        return "B" if record.edit_ratio is not None and record.edit_ratio <= SMALL_EDIT else "C"
    if record.outcome == "rejected":
        return "C" if record.reason == "wrong_tone" else "D"
    return None


def export_feedback(copilot: Copilot, *, brand: str | None = None,
                    outcomes: Iterable[str] = ("accepted",)) -> ExportedFeedback:
    wanted = set(outcomes)
    # One outcome per suggestion today; older databases may hold several: the latest is the last word.
    latest: dict[str, FeedbackRecord] = {}
    for r in copilot.feedback_records(brand=brand):
        latest[r.suggestion_id] = r
    out = ExportedFeedback()
    counts: Counter[str] = Counter()
    for sid, r in latest.items():
        grade = grade_of(r)
        if r.outcome not in wanted or grade is None:
            continue
        try:
            shown = copilot.get_suggestion(sid)
            suggestion, ticket = shown.suggestion, shown.ticket
        except NotFoundError:
            out.missing += 1
            continue
        opening = [m for m in ticket.messages if m.author == "customer"]
        if not opening:
            continue
        note = "; ".join(x for x in (r.reason, r.comment) if x)
        out.cases.append(EvalCase(
            id=f"feedback-{sid}", ticket=ticket.model_copy(update={"messages": opening, "status": "open", "actions": []}),
            reference_reply=r.final_text or suggestion.reply, language=suggestion.language,
            tags=["feedback", r.outcome],
            grades=[GradedReply(reply=suggestion.reply, grade=grade, note=note,
                                source=f"feedback:{r.outcome}:{suggestion.drafter}")]))
        counts[grade] += 1
    out.grades = dict(sorted(counts.items()))
    return out
