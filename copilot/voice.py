"""The brand's voice, learned from its resolved tickets: how its agents open, sign, how long they
write and whether they use emoji, per channel where tickets say which.

A brand with no configured profile gets the voice its own agents use; a configured profile keeps
every value it sets and takes the learned ones as defaults for the rest. What is learned:

- greeting: the share of first replies that open with one ("Hi", "Hey there", "Chào bạn", "您好"),
  and whether it stands on a line of its own (e-mail) or starts the first sentence (Twitter);
- signature: agents sign with their initials (``^KD``, ``*TJF``, ``/JI``), their name (``- Sam``),
  a team name ("The Acme team"), or not at all. A person's signature belongs to the agent who
  sends the reply, so the copilot never writes one; a team sign-off is reused when most replies
  end with the same one. A brand's raw id is never a signature;
- length (median and 90th percentile, characters) and emoji;
- channel: social channels (Twitter and the like) fit 280 characters.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from copilot.brand import BrandProfile

__all__ = ["SOCIAL_CHANNELS", "ChannelVoice", "LearnedVoice", "channel_limit", "learn_voice", "voiced_profile"]

SOCIAL_CHANNELS = frozenset({"twitter", "x", "social", "facebook", "instagram"})
TWEET_CHARS = 280
MIN_REPLIES = 5          # fewer replies than this say nothing about a voice
_GREETING = re.compile(
    r"^\s*(?P<g>(?:hi|hey|hello|hiya|dear|good (?:morning|afternoon|evening)|greetings)(?:\s+(?:there|team|all))?"
    r"|chào bạn|xin chào|chào anh|chào chị|您好|你好|亲爱的)(?P<name>\s+\[NAME\]|\s+[A-Z][a-z]+)?(?P<p>\s*[,!.:，！]?)"
    r"(?P<line>[ \t]*\n)?", re.I)
_INITIALS = re.compile(r"(?:^|\s)(?:\^\s?[A-Za-z]{1,6}|[*/]\s?[A-Z]{1,4}|~\s*[A-Z][A-Za-z]{0,14})\s*(?:\(?\d/\d\)?)?\s*$")
_DASH_NAME = re.compile(r"(?:^|\s)[-–—]\s*(?:\[NAME\]|[A-Z][a-z]{1,14}|[A-Z]{2,4})\.?\s*(?:\(?\d/\d\)?)?\s*$")
_TEAM = re.compile(r"(?im)^\s*(?:(?:best|kind|warm)?\s*regards|cheers|thanks|thank you|sincerely|trân trọng|祝好)[,!.]?"
                   r"\s*\n(?P<team>[^\n]{2,60})\s*$")
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_LEAD_HANDLES = re.compile(r"^(?:\s*(?:@\w+|\[HANDLE(?:_\d+)?\]))+[\s,:]*")

Signature = Literal["initials", "name", "team", "none"]


class ChannelVoice(BaseModel):
    replies: int
    greeting_share: float           # first replies opening with a greeting
    greeting_own_line: float        # ... of those, with the greeting on its own line
    greeting: str | None = None     # the most common anonymous greeting, as written ("Hi there,")
    signature: Signature = "none"
    team_sign_off: str | None = None
    median_chars: int
    p90_chars: int
    emoji_share: float


class LearnedVoice(BaseModel):
    """Per channel ("*" for all of the brand's tickets), learned from first agent replies."""

    channels: dict[str, ChannelVoice] = Field(default_factory=dict)

    def for_channel(self, channel: str | None) -> ChannelVoice | None:
        return self.channels.get((channel or "").lower()) or self.channels.get("*")


def _signature(reply: str) -> tuple[Signature, str | None]:
    team = _TEAM.search(reply)
    if team:
        return "team", team.group("team").strip()
    if _INITIALS.search(reply):
        return "initials", None
    if _DASH_NAME.search(reply):
        return "name", None
    return "none", None


def _channel_voice(replies: list[str]) -> ChannelVoice:
    greeted = own_line = 0
    greetings: Counter[str] = Counter()
    signatures: Counter[Signature] = Counter()
    teams: Counter[str] = Counter()
    lengths = []
    emoji = 0
    for raw in replies:
        reply = _LEAD_HANDLES.sub("", raw.strip())
        lengths.append(len(reply))
        emoji += bool(_EMOJI.search(reply))
        m = _GREETING.match(reply)
        if m:
            greeted += 1
            own_line += bool(m.group("line")) or reply[m.end():].startswith("\n")
            if not m.group("name"):
                greetings[(m.group("g").strip() + m.group("p").strip()).strip()] += 1
        kind, team = _signature(reply)
        signatures[kind] += 1
        if team:
            teams[team] += 1
    n = len(replies)
    lengths.sort()
    kind = signatures.most_common(1)[0][0] if signatures else "none"
    team_sign_off = None
    if teams:
        text, count = teams.most_common(1)[0]
        # One team string on most replies: that is how the brand signs.
        if count >= n / 2:
            kind, team_sign_off = "team", text
    if kind == "team" and team_sign_off is None:
        kind = "none"
    return ChannelVoice(
        replies=n, greeting_share=round(greeted / n, 3), greeting_own_line=round(own_line / greeted, 3) if greeted else 0.0,
        greeting=greetings.most_common(1)[0][0] if greetings else None, signature=kind, team_sign_off=team_sign_off,
        median_chars=int(statistics.median(lengths)), p90_chars=lengths[min(n - 1, int(0.9 * n))],
        emoji_share=round(emoji / n, 3))


def learn_voice(replies: Iterable[tuple[str | None, str]]) -> LearnedVoice | None:
    """(channel, first agent reply) pairs -> the voice per channel and overall; None below MIN_REPLIES."""
    by_channel: dict[str, list[str]] = {}
    for channel, reply in replies:
        if not reply.strip():
            continue
        by_channel.setdefault("*", []).append(reply)
        if channel:
            by_channel.setdefault(channel.lower(), []).append(reply)
    voice = LearnedVoice(channels={c: _channel_voice(r) for c, r in by_channel.items() if len(r) >= MIN_REPLIES})
    return voice if voice.channels else None


def channel_limit(channel: str | None) -> int | None:
    """The hard length limit of a channel, in characters."""
    return TWEET_CHARS if (channel or "").lower() in SOCIAL_CHANNELS else None


def voiced_profile(configured: BrandProfile, learned: LearnedVoice | None, channel: str | None) -> BrandProfile:
    """The profile a reply is framed with: what the brand configured, and for everything it did not
    set, what its agents do on this channel (social channels: 280 characters at most)."""
    values: dict[str, object] = {}
    voice = learned.for_channel(channel) if learned is not None else None
    social = (channel or "").lower() in SOCIAL_CHANNELS
    if voice is not None:
        values["use_greeting"] = voice.greeting_share >= 0.5
        values["greeting_inline"] = voice.greeting_own_line < 0.5
        if voice.greeting and voice.greeting_share >= 0.5:
            values["greeting_anonymous"] = {"*": voice.greeting}
        values["use_sign_off"] = voice.signature == "team"
        if voice.team_sign_off:
            values["sign_off"] = {"*": voice.team_sign_off}
        values["emoji"] = voice.emoji_share >= 0.1
    elif social:
        # A social channel with no history to learn from: one short line, no e-mail frame.
        values.update(use_greeting=False, use_sign_off=False, max_chars=TWEET_CHARS)
    if social:
        values["max_chars"] = TWEET_CHARS
    # Configured greeting or sign-off strings say the brand wants them: the learned voice does not drop them.
    configured_keys = set(configured.model_fields_set)
    if configured_keys & {"greeting", "greeting_anonymous"}:
        configured_keys |= {"use_greeting", "greeting_inline"}
    if "sign_off" in configured_keys:
        configured_keys.add("use_sign_off")
    kept = {k: v for k, v in values.items() if k not in configured_keys}
    return configured.model_copy(update=kept) if kept else configured
