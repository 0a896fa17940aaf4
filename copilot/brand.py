"""Brand voice: a profile per brand (YAML) and the functions that apply and check it.

Every reply, whoever drafted it, is wrapped in the same frame (greeting, disclaimer, sign-off) by
the check stage: drafters write bodies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from copilot.prompts import load_prompt
from copilot.text import split_sentences, word_count

__all__ = ["BrandProfile", "Frame", "VoiceIssue", "apply_frame", "check_voice", "enforce_banned", "frame_languages",
           "primary_language", "reply_word_limit", "split_frame", "voice_frame"]


def primary_language(code: str) -> str:
    """The primary subtag of a BCP-47 code, lower-case: "zh-CN" -> "zh", "en_US" -> "en"."""
    return re.split(r"[-_]", code.strip(), maxsplit=1)[0].lower()


class BrandProfile(BaseModel):
    """How a brand sounds. Per-language fields map a language code to text; missing
    languages fall back to the drafter's templates for that language."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    # "{name}" is replaced by the customer's first name when known.
    greeting: dict[str, str] = Field(default_factory=dict)
    greeting_anonymous: dict[str, str] = Field(default_factory=dict)
    sign_off: dict[str, str] = Field(default_factory=dict)
    # Appended to every reply, per language ("*" for all languages).
    disclaimers: dict[str, str] = Field(default_factory=dict)
    # Phrases that must never appear; mapped to a replacement ("" removes the sentence).
    banned_phrases: dict[str, str] = Field(default_factory=dict)
    tone: str = "friendly"
    tone_rules: list[str] = Field(default_factory=list)
    max_words: int = 220
    # Domains a reply may link to (used by the link check of generated replies).
    allowed_domains: list[str] = Field(default_factory=list)
    use_greeting: bool = True
    use_sign_off: bool = True
    # Languages the brand answers in (primary codes: "en", "vi", "zh"); empty: every language the
    # drafter writes. A customer writing in another language gets a reply in ``default_language``
    # (default: the first of ``languages``, else English).
    languages: list[str] = Field(default_factory=list)
    default_language: str | None = None

    @field_validator("languages", mode="before")
    @classmethod
    def _primary_codes(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [p for p in re.split(r"[,\s]+", v) if p]
        return [primary_language(x) if isinstance(x, str) else x for x in v] if isinstance(v, list) else v

    @field_validator("default_language")
    @classmethod
    def _primary_code(cls, v: str | None) -> str | None:
        return primary_language(v) if v else None

    @model_validator(mode="after")
    def _default_is_served(self) -> BrandProfile:
        if self.languages and self.default_language and self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not one of languages "
                             f"{self.languages}: add it to languages or pick one of them")
        return self

    @property
    def fallback_language(self) -> str:
        """The language for a customer whose language the brand does not serve (or cannot be told)."""
        return self.default_language or (self.languages[0] if self.languages else "en")

    def serves(self, lang: str) -> bool:
        return not self.languages or primary_language(lang) in self.languages
    # The greeting starts the first sentence ("Hi there! Sorry to hear...") instead of a line of its
    # own: how agents write on Twitter and in chat.
    greeting_inline: bool = False
    # A hard limit on the whole reply, in characters (280 on social channels): sentences past it go.
    max_chars: int | None = Field(default=None, ge=40)
    # False: emoji are taken out of replies (a brand whose agents never use them).
    emoji: bool = True

    def text(self, field: dict[str, str], lang: str, default: str) -> str:
        return field.get(lang, field.get("*", default))


class VoiceIssue(BaseModel):
    code: str
    detail: str


def enforce_banned(body: str, profile: BrandProfile) -> str:
    """Replace banned phrases (or drop their sentences when the replacement is empty)."""
    for phrase, replacement in profile.banned_phrases.items():
        pattern = re.compile(re.escape(phrase), re.IGNORECASE)
        if not pattern.search(body):
            continue
        if replacement:
            body = pattern.sub(replacement, body)
        else:
            kept = []
            for para in body.split("\n"):
                kept.append(" ".join(s for s in split_sentences(para) if not pattern.search(s)))
            body = "\n".join(kept)
    return body


def _trim(body: str, max_words: int) -> str:
    if word_count(body) <= max_words:
        return body
    out: list[str] = []
    for para in body.split("\n"):
        kept: list[str] = []
        for s in split_sentences(para):
            if word_count("\n".join([*out, " ".join([*kept, s])])) > max_words:
                break
            kept.append(s)
        if kept:
            out.append(" ".join(kept))
        if len(kept) < len(split_sentences(para)):
            break
    return "\n".join(out) if out else body


@dataclass(frozen=True)
class Frame:
    """What a brand wraps a reply body in, in one language."""

    language: str     # the language whose strings were used (English when the brand has none)
    greeting: str
    sign_off: str
    disclaimer: str = ""


def frame_languages() -> set[str]:
    """Languages the default frame has strings for."""
    return set(load_prompt("brand_frame").languages)


def voice_frame(profile: BrandProfile, brand: str, language: str, name: str | None = None) -> Frame:
    """The brand's greeting (with the customer's name when known), sign-off and disclaimer in a
    language; the profile's own strings win over the defaults (prompts/brand_frame/)."""
    template = load_prompt("brand_frame")
    lang = language if language in template.languages else "en"
    s = template.for_language(lang)
    # Only a name the brand configured: a raw id ("shop", "default", a Twitter handle) is no signature.
    display = profile.name
    if name:
        greeting = profile.text(profile.greeting, lang, s["greeting"]).format(name=name)
    else:
        greeting = profile.text(profile.greeting_anonymous, lang, s["greeting_anonymous"])
    sign_off = profile.text(profile.sign_off, lang, s["sign_off"] if display else s["sign_off_anonymous"])
    disclaimer = profile.disclaimers.get(lang, profile.disclaimers.get("*", ""))
    return Frame(lang, greeting, sign_off.format(brand=display), disclaimer)


_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]")
# Words that may follow an inline "Hi there," in lower case ("Hi there, sorry to hear that").
_LOWER_AFTER_COMMA = frozenset(["we", "we're", "we'd", "we've", "we'll", "sorry", "thanks", "thank", "please", "can", "could", "let's", "let", "what", "which", "that", "oh", "it", "it's", "this", "our", "you", "your", "happy", "glad", "how", "do", "did", "are", "is", "have", "has", "here"])


def _inline(greeting: str, body: str) -> str:
    """ "Hi there," + "Sorry to hear..." -> "Hi there, sorry to hear..." (a name stays capitalised)."""
    first = body.split(" ", 1)[0]
    if greeting.rstrip().endswith(","):
        if first.lower().strip(",.!?") in _LOWER_AFTER_COMMA:
            body = body[0].lower() + body[1:]
        else:
            greeting = greeting.rstrip().rstrip(",，") + "!"
    sep = "" if greeting.endswith(("，", "！", "。")) else " "
    return f"{greeting.rstrip()}{sep}{body}"


def _fit_chars(body: str, frame_chars: int, limit: int) -> str:
    """Drop whole sentences from the end of the body until the reply fits ``limit`` characters."""
    sents = [x for para in body.split("\n") for x in split_sentences(para)]
    if frame_chars + len(body) <= limit:
        return body
    while len(sents) > 1 and frame_chars + len(" ".join(sents)) > limit:
        sents.pop()
    return " ".join(sents)


def apply_frame(body: str, profile: BrandProfile, frame: Frame) -> str:
    """Wrap a reply body in greeting / sign-off / disclaimer, enforcing banned phrases, emoji and length."""
    body = _trim(enforce_banned(body.strip(), profile), profile.max_words)
    if not profile.emoji:
        body = re.sub(r"[ \t]{2,}", " ", _EMOJI.sub("", body)).strip()
    greeting = frame.greeting if profile.use_greeting else ""
    if greeting and profile.greeting_inline and body:
        body, greeting = _inline(greeting, body), ""
    tail = "\n\n".join(p for p in (frame.disclaimer, frame.sign_off if profile.use_sign_off else "") if p.strip())
    if profile.max_chars is not None:
        body = _fit_chars(body, sum(len(p) + 2 for p in (greeting, tail) if p), profile.max_chars)
    return "\n\n".join(p for p in (greeting, body, tail) if p.strip())


def split_frame(reply: str, frame: Frame) -> tuple[str, str]:
    """(greeting, body) of a framed reply: the brand's frame taken off again (rewrites edit the body)."""
    paras = reply.split("\n\n")
    greeting = ""
    if frame.greeting and len(paras) > 1 and paras[0].strip() and len(paras[0]) <= 60 and paras[0].rstrip().endswith((",", "，", ":")):
        greeting = paras.pop(0)
    body = "\n\n".join(paras)
    if frame.sign_off and body.endswith(frame.sign_off):
        body = body[: -len(frame.sign_off)].rstrip()
    if frame.disclaimer and body.endswith(frame.disclaimer.strip()):
        body = body[: -len(frame.disclaimer.strip())].rstrip()
    return greeting, body.strip()


def reply_word_limit(profile: BrandProfile) -> int:
    # Greeting, sign-off and disclaimer are outside the body's budget.
    return profile.max_words + 60


def check_voice(reply: str, profile: BrandProfile, *, lang: str, greeting: str = "", sign_off: str = "",
                disclaimer: str = "") -> list[VoiceIssue]:
    issues = []
    low = reply.lower()
    for phrase in profile.banned_phrases:
        if phrase.lower() in low:
            issues.append(VoiceIssue(code="banned_phrase", detail=phrase))
    if disclaimer and disclaimer.strip() not in reply:
        issues.append(VoiceIssue(code="missing_disclaimer", detail=disclaimer))
    if profile.use_greeting and greeting and not reply.startswith(greeting.split("{")[0].strip()):
        issues.append(VoiceIssue(code="missing_greeting", detail=greeting))
    if profile.use_sign_off and sign_off and sign_off.strip() not in reply:
        issues.append(VoiceIssue(code="missing_sign_off", detail=sign_off))
    words = word_count(reply)
    if words > reply_word_limit(profile):
        issues.append(VoiceIssue(code="too_long", detail=f"{words} words"))
    return issues
