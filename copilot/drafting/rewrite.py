"""Rewrites agents ask for: shorter, friendlier, more formal, translated, or free-text edits.

Rewriters edit a reply *body* (the frame is taken off before and put back by the check stage):
the offline rewriter does the mechanical ones (shorter, friendlier, more formal) and says plainly
when it cannot (translation, free text); with an LLM configured, any instruction goes to the model
(prompts/rewrite_reply/), and its result is checked like every draft.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from copilot.brand import BrandProfile, Frame, apply_frame
from copilot.drafting.base import DraftFailed
from copilot.prompts import Prompt, load_prompt

__all__ = ["LLMRewriter", "OfflineRewriter", "classify_instruction"]

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


class OfflineRewriter:
    name = "embedded"
    prompt_text = ""

    def rewrite(self, body: str, instruction: str, *, empathy: str, profile: BrandProfile) -> str | None:
        """The rewritten body, or None when this instruction needs a language model."""
        kind = classify_instruction(instruction)
        if kind == "shorter":
            half = profile.model_copy(update={"max_words": max(12, len(body.split()) // 2), "use_greeting": False,
                                              "use_sign_off": False})
            return apply_frame(body, half, Frame("", "", "")) if body else body
        if kind == "friendlier":
            return body if empathy in body else f"{empathy} {body}"
        if kind == "formal":
            out = body
            for contracted, full in _CONTRACTIONS.items():
                out = re.sub(rf"\b{re.escape(contracted)}\b", full, out)
                out = re.sub(rf"\b{re.escape(contracted.capitalize())}\b", full.capitalize(), out)
            return out.replace("!", ".")
        return None


class _RewriteOut(BaseModel):
    reply: str = Field(min_length=1)


class LLMRewriter:
    def __init__(self, chat_model: Any, *, name: str, prompt: Prompt | None = None) -> None:
        self.chat_model = chat_model
        self.name = name
        self.prompt = prompt or load_prompt("rewrite_reply")
        self.prompt_text = self.prompt.system or ""

    def rewrite(self, body: str, instruction: str, *, language: str) -> str:
        """The rewritten body; ``DraftFailed`` when the model fails or answers nonsense."""
        from langchain_core.messages import HumanMessage, SystemMessage

        values = {"language": language, "instruction": instruction, "reply": body}
        try:
            answer = self.chat_model.bind(response_format={"type": "json_object"}).invoke([
                SystemMessage(content=(self.prompt.system or "").format(**values)),
                HumanMessage(content=(self.prompt.template or "").format(**values))])
            text = str(answer.content)
            return _RewriteOut.model_validate_json(text[text.find("{"): text.rfind("}") + 1]).reply.strip()
        except Exception as exc:
            raise DraftFailed(f"{type(exc).__name__}: {exc}"[:300]) from exc
