"""Block Kit for suggestions, modals and App Home: pure functions, no Slack calls.

Slack rejects a whole message when one limit is crossed, so every text is cut to its documented
limit here (https://api.slack.com/reference/block-kit): section text 3,000 characters, 50 blocks
per message, button text 75, button value 2,000, context 10 elements, header 150, modal title 24,
plain-text input 3,000, select options 100 with 75-character labels.
"""

from __future__ import annotations

import re
from typing import Any

from copilot.models import FEEDBACK_REASONS, Citation, FeedbackStats, Suggestion
from copilot.pii import PLACEHOLDER_RE

__all__ = [
    "ACTIONS", "LIMITS", "edit_modal", "error_blocks", "home_view", "is_low_confidence", "not_helpful_modal",
    "outcome_blocks", "progress_blocks", "reply_sections", "source_label", "suggestion_blocks", "text_blocks",
]

Block = dict[str, Any]
LIMITS = {"section": 3000, "blocks": 50, "button_text": 75, "button_value": 2000, "context_elements": 10,
          "header": 150, "modal_title": 24, "input": 3000, "options": 100, "option_text": 75, "fallback_text": 3000}
ACTIONS = {
    "send": "copilot_send", "edit": "copilot_edit", "regenerate": "copilot_regenerate",
    "shorter": "copilot_shorter", "friendlier": "copilot_friendlier", "not_helpful": "copilot_not_helpful",
    "show_more": "copilot_show_more",
}
EDIT_VIEW = "copilot_edit_submit"
REASON_VIEW = "copilot_not_helpful_submit"
MAX_REPLY_SECTIONS = 4   # a longer reply is cut with "Show more" (the full text opens in a modal)
REASON_LABELS = {"wrong_facts": "Wrong facts", "wrong_tone": "Wrong tone", "wrong_language": "Wrong language",
                 "not_relevant": "Not relevant", "other": "Other"}
ATTENTION = {
    "escalate": ":rotating_light: *Escalation*: anger, a legal threat, churn risk or a safety issue.",
    "unsupported_claim": ":warning: *Unsupported claim*: a policy or promise no source backs.",
    "possible_prompt_injection": ":shield: The message tried to instruct the assistant; it was ignored.",
    "llm_fallback": ":information_source: The language model failed; this is the offline draft.",
}
# Either flag means the draft is not worth sending as is: it is shown collapsed, and Send is not primary.
LOW_CONFIDENCE = {
    "no_evidence": "nothing similar enough was found, so the draft is only a holding reply",
    "low_confidence": "the confidence is below this brand's threshold",
}
ESCALATION_TITLES = {"anger": "Anger", "legal_threat": "Legal threat", "public_complaint": "Public complaint",
                     "chargeback": "Chargeback or dispute", "churn_risk": "Churn risk", "safety": "Safety hazard",
                     "manager_request": "Asks for a manager"}
SENTIMENT_EMOJI = {"negative": ":slightly_frowning_face:", "neutral": ":neutral_face:", "positive": ":slightly_smiling_face:"}
URGENT = 0.6            # urgency from here on is shown
LOW_DRAFT_CHARS = 600   # a draft that is not confident is shown this long, the rest behind "Show more"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _mrkdwn_escape(text: str) -> str:
    # Slack treats &, < and > as control characters in mrkdwn.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def reply_sections(reply: str, *, limit: int = LIMITS["section"] - 100) -> list[str]:
    """Split a reply into section-sized pieces at paragraph, then line, then word boundaries."""
    pieces: list[str] = []
    current = ""
    for para in _mrkdwn_escape(reply).split("\n\n"):
        while len(para) > limit:
            cut = para.rfind("\n", 0, limit)
            cut = cut if cut > 0 else para.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(para[:cut].rstrip())
            para = para[cut:].lstrip()
        candidate = f"{current}\n\n{para}" if current else para
        if len(candidate) > limit:
            pieces.append(current)
            current = para
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces or [""]


def _section_blocks(pieces: list[str]) -> list[Block]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": p or " "}} for p in pieces]


def text_blocks(text: str, *, max_sections: int | None = MAX_REPLY_SECTIONS) -> list[Block]:
    """A reply as mrkdwn section blocks within Slack's limits (the first ``max_sections`` of them)."""
    return _section_blocks(reply_sections(text)[:max_sections])


def _button(text: str, action: str, value: str, style: str | None = None) -> Block:
    b: Block = {"type": "button", "text": {"type": "plain_text", "text": _cut(text, LIMITS["button_text"]),
                                            "emoji": True},
                "action_id": ACTIONS[action], "value": value[: LIMITS["button_value"]]}
    if style:
        b["style"] = style
    return b


def is_low_confidence(s: Suggestion) -> bool:
    return any(f in LOW_CONFIDENCE for f in s.flags)


def source_label(c: Citation) -> str:
    """A source's title for people: redaction placeholders ("[HANDLE]") dropped, and the kind and id
    when nothing readable is left (a source is never called "None")."""
    title = re.sub(r"\s+", " ", PLACEHOLDER_RE.sub(" ", c.title or "")).strip(" ,:;-")
    if title and title.lower() not in {"none", "null"}:
        return title
    kind = "Article" if c.kind == "article" else "Past ticket"
    return f"{kind} {c.source_id.split(':', 1)[-1]}"


def _citation_line(i: int, c: Citation) -> str:
    title = _mrkdwn_escape(_cut(source_label(c), 80))
    # A link only for web URLs: anything else would be rejected or unsafe in mrkdwn.
    label = f"<{c.url}|{title}>" if c.url and c.url.startswith(("https://", "http://")) else title
    return f"[{i}] {label} ({c.kind})"


def _signal_blocks(s: Suggestion) -> list[Block]:
    """The customer's mood (urgency when high), then each escalation reason with the customer's words."""
    blocks: list[Block] = []
    if s.sentiment is not None:
        mood = f"{SENTIMENT_EMOJI.get(s.sentiment.label, '')} Customer: *{s.sentiment.label}*"
        if s.sentiment.urgency >= URGENT:
            mood += f"  ·  :alarm_clock: *urgent* ({s.sentiment.urgency:.0%})"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": mood.strip()}]})
    lines = [f":rotating_light: *Escalation: {ESCALATION_TITLES.get(e.reason, _mrkdwn_escape(e.reason))}* "
             f"({e.confidence:.0%}) — “{_mrkdwn_escape(_cut(e.evidence, 200))}”" for e in s.escalation[:3]]
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), 3000)}})
    return blocks


def _attention_lines(s: Suggestion) -> list[str]:
    lines = [ATTENTION[f] for f in s.flags if f in ATTENTION and not (f == "escalate" and s.escalation)]
    if is_low_confidence(s):
        why = "; ".join(LOW_CONFIDENCE[f] for f in LOW_CONFIDENCE if f in s.flags)
        lines.insert(0, f":grey_question: *No confident draft*: {why}. Check the sources and next actions; "
                        "the draft below is only a starting point.")
    if "evidence_in_other_language" in s.flags:
        links = [_citation_line(i, c) for i, c in enumerate(s.citations, 1) if c.kind == "article"][:2]
        lines.append(":globe_with_meridians: *The only relevant article is in another language*: "
                     + ("  ·  ".join(links) if links else "see the reply"))
    return lines + [f"> _{_mrkdwn_escape(_cut(c, 200))}_" for c in s.unsupported_claims[:3]]


def _guidance_block(s: Suggestion) -> Block | None:
    if not s.guidance:
        return None
    items = [f"• *{_mrkdwn_escape(_cut(g.title or g.source_id, 80))}*: {_mrkdwn_escape(_cut(g.text, 400))}"
             for g in s.guidance[:3]]
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(
        ":memo: *For you, not for the customer*\n" + "\n".join(items), 3000)}}


def _draft_blocks(s: Suggestion, full: bool) -> tuple[list[Block], bool]:
    """The reply: in full sections when confident; when not, a short grey draft (secondary to the
    sources and actions). Returns the blocks and whether text was left out."""
    if is_low_confidence(s) and not full:
        draft = _mrkdwn_escape(s.reply)
        return ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "*Draft (not confident):* "
                                                   + _cut(draft, LOW_DRAFT_CHARS)}]}],
                len(draft) > LOW_DRAFT_CHARS)
    sections = reply_sections(s.reply)
    shown = sections if full else sections[:MAX_REPLY_SECTIONS]
    return _section_blocks(shown), len(shown) < len(sections)


def suggestion_blocks(s: Suggestion, *, full: bool = False) -> list[Block]:
    """The suggestion message: signals, attention lines, guidance for the agent, the reply, sources,
    next actions, meta, buttons. A draft that is not confident stays visible but secondary."""
    blocks = _signal_blocks(s)
    attention = _attention_lines(s)
    if attention:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut("\n".join(attention), 3000)}})
    guidance = _guidance_block(s)
    if guidance:
        blocks.append(guidance)
    draft, truncated = _draft_blocks(s, full)
    blocks += draft
    if s.citations:
        lines = [_citation_line(i, c) for i, c in enumerate(s.citations, 1)]
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": _cut("*Sources:* " + "  ·  ".join(lines), 3000)}]})
    else:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "*Sources:* none"}]})
    if s.next_actions:
        acts = [f"{i}. {_mrkdwn_escape(a.title)} ({a.confidence:.0%})" + (
            f" — {_mrkdwn_escape(_cut(a.reason, 120))}" if a.reason else "") for i, a in enumerate(s.next_actions[:3], 1)]
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": _cut("*Next actions*\n" + "\n".join(acts), 3000)}})
    meta = f"Confidence {s.confidence:.0%} · {s.language} · {s.drafter}"
    if s.prompt_version:
        meta += f" · {s.prompt_version}"
    other = [f for f in s.flags if f not in {*ATTENTION, *LOW_CONFIDENCE, "evidence_in_other_language"}]
    if other:
        meta += " · flags: " + ", ".join(other)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(meta, 3000)}]})
    send = (_button("Send anyway", "send", s.id) if is_low_confidence(s)
            else _button("Send", "send", s.id, "primary"))
    buttons = [send, _button("Edit", "edit", s.id),
               _button("Regenerate", "regenerate", s.id), _button("Shorter", "shorter", s.id),
               _button("Friendlier", "friendlier", s.id), _button("Not helpful", "not_helpful", s.id, "danger")]
    if truncated:
        buttons.insert(1, _button("Show more", "show_more", s.id))
    blocks.append({"type": "actions", "block_id": "copilot_actions", "elements": buttons})
    return blocks[: LIMITS["blocks"]]


def fallback_text(s: Suggestion) -> str:
    """The notification / screen-reader text that goes with the blocks."""
    lead = "No confident draft" if is_low_confidence(s) else "Suggested reply"
    return _cut(f"{lead}: {s.reply}", LIMITS["fallback_text"])


def progress_blocks(text: str = "Drafting a suggestion…") -> list[Block]:
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": f":hourglass_flowing_sand: {text}"}]}]


def error_blocks(message: str) -> list[Block]:
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(f":x: {message}", 3000)}]}]


def outcome_blocks(s: Suggestion, outcome: str, agent: str, final_text: str | None = None) -> list[Block]:
    """What replaces the buttons once an agent acted: who did what; the text sent stays visible."""
    verb = {"accepted": "sent it as is", "edited": "sent an edited reply", "rejected": "marked it not helpful",
            "ignored": "dismissed it"}[outcome]
    blocks = text_blocks(final_text if final_text is not None else s.reply)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<@{agent}> {verb}."}]})
    return blocks


def edit_modal(s: Suggestion, *, private_metadata: str) -> Block:
    reply = s.reply
    note = []
    if len(reply) > LIMITS["input"]:
        reply = reply[: LIMITS["input"]]
        note = [{"type": "context", "elements": [{"type": "mrkdwn", "text":
                 ":warning: The reply was longer than Slack allows in a text box; the end was cut."}]}]
    return {
        "type": "modal", "callback_id": EDIT_VIEW, "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Edit reply"},
        "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [*note, {"type": "input", "block_id": "reply", "label": {"type": "plain_text", "text": "Reply"},
                           "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                                       "initial_value": reply, "max_length": LIMITS["input"]}}],
    }


def not_helpful_modal(*, private_metadata: str) -> Block:
    options = [{"text": {"type": "plain_text", "text": REASON_LABELS[r]}, "value": r} for r in FEEDBACK_REASONS]
    return {
        "type": "modal", "callback_id": REASON_VIEW, "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Not helpful"},
        "submit": {"type": "plain_text", "text": "Submit"}, "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": "What was wrong?"},
             "element": {"type": "static_select", "action_id": "value", "options": options}},
            {"type": "input", "block_id": "comment", "optional": True,
             "label": {"type": "plain_text", "text": "Anything else? (optional)"},
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 1000}},
        ],
    }


def full_reply_modal(s: Suggestion) -> Block:
    return {"type": "modal", "title": {"type": "plain_text", "text": "Suggested reply"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": text_blocks(s.reply, max_sections=100)}  # a modal holds up to 100 blocks


def _stats_lines(title: str, st: FeedbackStats) -> Block:
    text = (f"*{title}*\nSuggestions seen: *{st.seen}*\nSent as is: *{st.accepted}*\n"
            f"Sent after edit: *{st.edited}*\nRejected: *{st.rejected}*\n"
            f"Acceptance: *{st.acceptance_rate:.0%}*")
    if st.reasons:
        text += "\nRejection reasons: " + ", ".join(f"{REASON_LABELS.get(k, k)} {v}" for k, v in
                                                     sorted(st.reasons.items(), key=lambda kv: -kv[1]))
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, 3000)}}


def home_view(mine: FeedbackStats, team: FeedbackStats) -> Block:
    return {"type": "home", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Support copilot"}},
        _stats_lines("You", mine), {"type": "divider"}, _stats_lines("Your team", team),
        {"type": "context", "elements": [{"type": "mrkdwn", "text":
            "Suggestions appear in the threads of watched channels. Use `/copilot <text>` or the "
            "*Suggest reply* message shortcut anywhere."}]},
    ]}
