"""Rewrites agents ask for: shorter, friendlier, more formal, translated, or free-text edits.

The embedded rewriter does the mechanical ones offline (shorter, friendlier, more formal) and says
plainly when it cannot (translation, free text) with the flag ``rewrite_unsupported``. With an LLM
configured, any instruction is sent to the model (prompts/rewrite_reply/), checked (no new
numbers, right language), and on failure the embedded rewrite answers with ``llm_fallback``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from copilot.brand import BrandProfile, apply_voice, enforce_banned
from copilot.drafting.embedded import EmbeddedDrafter
from copilot.drafting.llm import unsupported_numbers
from copilot.language import detect_language
from copilot.prompts import Prompt, load_prompt

__all__ = ["Frame", "Rewriter", "classify_instruction", "split_frame"]

_KINDS = {
    "shorter": re.compile(r"(?i)shorter|shorten|concise|brief|ngắn|简短|短一点"),
    "friendlier": re.compile(r"(?i)friendl|empath|warm|kinder|thân thiện|亲切|友好"),
    "formal": re.compile(r"(?i)formal|professional|trang trọng|正式"),
    "translate": re.compile(r"(?i)translat|dịch|翻译"),
}
_CONTRACTIONS = {"I'm": "I am", "I've": "I have", "I'll": "I will", "can't": "cannot", "won't": "will not",
                 "don't": "do not", "doesn't": "does not", "isn't": "is not", "you're": "you are",
                 "we're": "we are", "we'll": "we will", "we've": "we have", "it's": "it is", "that's": "that is",
                 "let's": "let us", "you'll": "you will", "didn't": "did not", "haven't": "have not"}


def classify_instruction(instruction: str) -> str:
    for kind, pattern in _KINDS.items():
        if pattern.search(instruction):
            return kind
    return "custom"


@dataclass
class Frame:
    greeting: str
    body: str
    disclaimer: str
    sign_off: str


def split_frame(reply: str, greeting: str, sign_off: str, disclaimer: str) -> Frame:
    """Separate the brand frame from the body of a reply the drafters produced."""
    paras = reply.split("\n\n")
    g = s = d = ""
    if paras and greeting and paras[0].strip() and len(paras) > 1 and len(paras[0]) <= 60 \
            and paras[0].rstrip().endswith((",", "，", ":")):
        g = paras.pop(0)
    if sign_off and paras and "\n\n".join(paras).endswith(sign_off):
        s = sign_off
        paras = "\n\n".join(paras)[: -len(sign_off)].rstrip().split("\n\n")
    if disclaimer and paras and paras[-1].strip() == disclaimer.strip():
        d = paras.pop()
    return Frame(g, "\n\n".join(p for p in paras if p.strip()), d, s)


class _RewriteOut(BaseModel):
    reply: str = Field(min_length=1)


class Rewriter:
    def __init__(self, embedded: EmbeddedDrafter, *, chat_model: Any | None = None,
                 prompt: Prompt | None = None) -> None:
        self.embedded = embedded
        self.chat_model = chat_model
        self.prompt = prompt or load_prompt("rewrite_reply")

    def rewrite(self, reply: str, instruction: str, *, language: str, target_language: str, brand: str,
                profile: BrandProfile, sources: list[str]) -> tuple[str, str, list[str]]:
        """Return (new reply, its language, flags)."""
        kind = classify_instruction(instruction)
        out_lang = target_language if kind == "translate" else language
        lang, greeting, sign_off, disclaimer = self.embedded.voice_frame(profile, brand, out_lang)
        old = self.embedded.voice_frame(profile, brand, language)
        frame = split_frame(reply, old[1], old[2], old[3])
        src_lang, strings = old[0], self.embedded.strings(lang)[1]
        # Keep a greeting that carried the customer's name.
        if frame.greeting and lang == src_lang:
            greeting = frame.greeting
        flags: list[str] = []
        body: str | None = None
        if self.chat_model is not None:
            body = self._llm(frame.body, instruction, lang, sources)
            if body is None:
                flags.append("llm_fallback")
        if body is None:
            body, ok = self._offline(frame.body, kind, strings, profile)
            if not ok:
                flags.append("rewrite_unsupported")
                lang = language
                return reply, lang, flags
        wrapped = apply_voice(enforce_banned(body, profile), profile, lang=lang, greeting=greeting,
                              sign_off=sign_off, disclaimer=disclaimer)
        return wrapped, lang, flags

    def _offline(self, body: str, kind: str, strings: dict[str, str], profile: BrandProfile) -> tuple[str, bool]:
        if kind == "shorter":
            half = profile.model_copy(update={"max_words": max(12, len(body.split()) // 2)})
            return apply_voice(body, half, lang="", greeting="", sign_off="") if body else body, True
        if kind == "friendlier":
            empathy = strings["empathy"]
            return (body if empathy in body else f"{empathy} {body}"), True
        if kind == "formal":
            out = body
            for contracted, full in _CONTRACTIONS.items():
                out = re.sub(rf"\b{re.escape(contracted)}\b", full, out)
                out = re.sub(rf"\b{re.escape(contracted.capitalize())}\b", full.capitalize(), out)
            return out.replace("!", "."), True
        return body, False

    def _llm(self, body: str, instruction: str, lang: str, sources: list[str]) -> str | None:
        from langchain_core.messages import HumanMessage, SystemMessage

        values = {"language": lang, "instruction": instruction, "reply": body}
        try:
            answer = self.chat_model.bind(response_format={"type": "json_object"}).invoke([  # type: ignore[union-attr]
                SystemMessage(content=(self.prompt.system or "").format(**values)),
                HumanMessage(content=(self.prompt.template or "").format(**values))])
            text = str(answer.content)
            new = _RewriteOut.model_validate_json(text[text.find("{"): text.rfind("}") + 1]).reply.strip()
        except Exception:
            return None
        if detect_language(new, default=lang) != lang or unsupported_numbers(new, [body, *sources]):
            return None  # a rewrite must not change language or invent numbers
        return new

