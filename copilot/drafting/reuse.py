"""Reuse at the level of sentences, with evidence.

A past reply was written for another customer: some of its sentences fit anybody with the same
problem ("Which device do you use? Are all channels affected?"), others belong to that case (a
name, a signature, "your Apple Watch", "the credits have now been issued", "the last train is at
20:00"). Each sentence of the replies to similar past tickets is judged on its own:

- *specific* sentences are dropped unless this ticket or a KB source says what they say: another
  customer's data, names, signatures, products, devices and other case objects the ticket does not
  name, bookings, codes, amounts, dates and times, statements of what the agent did or sees, service
  status, offers, context from an earlier exchange ("regarding your DM"), requests for details the
  customer already gave, anything about an intent the customer refused;
- the rest is *generic* only with evidence: replies to other similar tickets say the same (the same
  sentence written by different agents to different customers), or a KB passage does.

Sentences that say the same are grouped; a group's weight is the closeness of the distinct tickets
behind it. The reply is the strongest group of content (a step, a question, an answer) with, when
there is room, a second one and a generic opener of the right tone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from copilot.checks.given import asked_slots
from copilot.checks.leftovers import find_leftovers
from copilot.drafting.compose import case_specific
from copilot.drafting.topics import Topics, topics
from copilot.text import overlap, surface_tokens, tokenize

__all__ = ["Group", "Piece", "Role", "SentencePool", "role_of"]

Role = Literal["opener", "statement", "step", "question"]
# Two sentences say the same when their words and word pairs overlap this much (Dice).
SAME = 0.5
_OPENER = re.compile(
    r"(?i)^(?:oh no|oh dear|oops|uh oh|yikes|sorry|so sorry|we're sorry|we are sorry|i'm sorry|i am sorry|apologies"
    r"|we apologi[sz]e|i apologi[sz]e|thanks|thank you|we'd love|we would love|we'd be happy|we're happy|happy to|glad"
    r"|we're here|we are here|we can help|we'd like to help|let's|let us help|we understand|i understand|we hear you"
    r"|that's not|that isn't|that is not|that shouldn't|that doesn't sound|not what we|we hate|hate to|great question"
    r"|good question|we've got you|we got you|no worries|hello|hey|here to help|happy to assist|we're on it)\b"
    r"|^(?:rất tiếc|xin lỗi|cảm ơn|非常抱歉|抱歉|感谢|谢谢)")
_STEP = re.compile(
    r"(?i)^(?:please\s+|kindly\s+|for now,?\s+|in the meantime,?\s+|first,?\s+|also,?\s+)?(?:try|check|make sure|go to"
    r"|head to|visit|dm|send|reach|contact|give|restart|reboot|reinstall|update|sign|log|clear|follow|call|pop|drop"
    r"|shoot|tap|open|select|use|look|see|keep|let us know|tell us|click|turn|unplug|remove|delete|reset|contact)\b"
    r"|^(?:bạn (?:vui lòng|hãy|có thể)|vui lòng|hãy)|^(?:请|麻烦|您可以)")
# Words an agent repeats from any customer's message without them being that customer's case.
_EVERYDAY = frozenset(tokenize(
    "help issue issues problem problems trouble question questions account order orders time today now dm message "
    "contact details info information experience service support team know let get got like want need please thanks "
    "sorry see look check work working happen happening still again try tried"))
# A sentence that leans on the one before ("If so, ...", "It should...", "You will see them..."): when that
# one belonged to the old case, this one has lost what it refers to.
_ANAPHORA = re.compile(r"(?i)^(?:it|it's|this|that|these|those|they|they're|them|if so|if not|then|so|also|there|he|she"
                       r"|his|her|once|after that|otherwise)\b|\b(?:them|those|these|they)\b")
_APOLOGY = re.compile(r"(?i)sorry|apolog|oh no|oh dear|hate|not what we|that's not|that isn't|shouldn't|doesn't sound"
                      r"|not right|understand|frustrat|rất tiếc|xin lỗi|抱歉")
_THANKS = re.compile(r"(?i)thank|glad|great|love to hear|cảm ơn|感谢|谢谢")


def role_of(sentence: str) -> Role:
    s = sentence.strip()
    if s.endswith(("?", "？")):
        return "question"
    if _OPENER.search(s) and len(s.split()) <= 10:
        return "opener"
    if _STEP.search(s):
        return "step"
    return "statement"


def opener_tone(sentence: str) -> Literal["apology", "thanks", "help"]:
    if _APOLOGY.search(sentence):
        return "apology"
    if _THANKS.search(sentence):
        return "thanks"
    return "help"


@dataclass
class Piece:
    """One sentence of one past reply."""

    text: str
    source: int                 # which candidate reply it comes from
    position: int               # its place in that reply
    role: Role
    tokens: set[str]
    reasons: list[str] = field(default_factory=list)   # why it belongs to the old case


@dataclass
class Group:
    """Sentences of several replies that say the same thing."""

    pieces: list[Piece]
    sources: set[int]
    weight: float               # closeness of the distinct tickets behind it

    @property
    def best(self) -> Piece:
        return self.pieces[0]

    @property
    def role(self) -> Role:
        return self.best.role

    @property
    def agree(self) -> int:
        return len(self.sources)


class SentencePool:
    """The sentences of the replies to similar past tickets, judged for this ticket."""

    def __init__(self, replies: Sequence[list[str]], closeness: Sequence[float], *, ticket_text: str,
                 licensed: Sequence[str] = (), given: set[str] | None = None,
                 problems: Sequence[str] | None = None) -> None:
        self.closeness = list(closeness)
        self.ticket_text = ticket_text
        self.ticket: Topics = topics(ticket_text)
        allowed = [ticket_text, *licensed]
        # Each text alone: tokenize reads a text's script and language as a whole (a Vietnamese article
        # joined to an English ticket would make the English words Vietnamese).
        said = {t for text in allowed for t in tokenize(text)}
        self.pieces: list[Piece] = []
        for i, sents in enumerate(replies):
            before: Piece | None = None
            # The old customer's words: a reply sentence that repeats them is about their case.
            theirs = set(tokenize(problems[i])) - said - _EVERYDAY if problems else set()
            for j, s in enumerate(sents):
                p = Piece(s, i, j, role_of(s), surface_tokens(s))
                p.reasons = self._reasons(s, allowed, given or set())
                if theirs & set(tokenize(s)):
                    p.reasons.append("echo")
                if before is not None and before.reasons and _ANAPHORA.search(s):
                    p.reasons.append("context")
                self.pieces.append(p)
                before = p
        self.groups = self._group([p for p in self.pieces if not p.reasons])

    def _reasons(self, s: str, allowed: list[str], given: set[str]) -> list[str]:
        out = []
        if case_specific(s):
            out.append("case")
        out.extend(sorted({f.kind for f in find_leftovers(s, allowed=allowed)}))
        if asked_slots(s, given, self.ticket_text):
            out.append("asks_given")
        t = topics(s)
        if t.intents & self.ticket.refused:
            out.append("refused")
        elif role_of(s) != "opener" and t.intents - self.ticket.intents:
            # "Has the return been escalated?" to a customer who never spoke of a return.
            out.append("intent")
        if t.devices - self.ticket.devices:
            out.append("device")
        if t.codes - self.ticket.codes:
            out.append("code")
        return out

    def _group(self, pieces: list[Piece]) -> list[Group]:
        # Closest tickets first: a group is represented by the sentence of the closest reply.
        ordered = sorted(pieces, key=lambda p: (-self.closeness[p.source], p.source, p.position))
        groups: list[Group] = []
        for p in ordered:
            home = next((g for g in groups if g.role == p.role or {g.role, p.role} <= {"step", "statement"}
                         if overlap(p.tokens, g.best.tokens) >= SAME), None)
            if home is None:
                groups.append(Group([p], {p.source}, self.closeness[p.source]))
            elif p.source not in home.sources:
                home.pieces.append(p)
                home.sources.add(p.source)
                home.weight += self.closeness[p.source]
        return sorted(groups, key=lambda g: -g.weight)

    def agreed(self, *, alone: float, backed: set[str] | frozenset[str] = frozenset()) -> list[Group]:
        """Groups with evidence: said to two tickets or more, or said by a KB source (``backed``); or,
        for a question, a step or an opener, written to one ticket at least ``alone`` close. A statement
        of one reply alone is about its case."""
        return [g for g in self.groups if g.agree >= 2 or g.best.text in backed
                or (g.role != "statement" and self.closeness[next(iter(g.sources))] >= alone)]

    def dropped(self) -> list[Piece]:
        return [p for p in self.pieces if p.reasons]
