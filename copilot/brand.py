"""Brand voice: a profile per brand (YAML) and the functions that apply and check it."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from copilot.text import split_sentences, word_count

__all__ = ["BrandProfile", "VoiceIssue", "apply_voice", "check_voice", "enforce_banned", "primary_language",
           "reply_word_limit"]


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


def apply_voice(body: str, profile: BrandProfile, *, lang: str, greeting: str, sign_off: str,
                disclaimer: str = "") -> str:
    """Wrap a reply body in greeting / sign-off / disclaimer, enforcing banned phrases and length."""
    body = _trim(enforce_banned(body.strip(), profile), profile.max_words)
    parts = []
    if profile.use_greeting and greeting:
        parts.append(greeting)
    parts.append(body)
    if disclaimer:
        parts.append(disclaimer)
    if profile.use_sign_off and sign_off:
        parts.append(sign_off)
    return "\n\n".join(p for p in parts if p.strip())


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
