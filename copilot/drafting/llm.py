"""The generative drafter: a LangChain chat model asked for structured JSON, checked, with fallback.

The prompt is a versioned file (prompts/draft_reply/). Structured output works with any
OpenAI-compatible server: ``json_schema`` where supported (OpenAI), ``json_object`` for servers that
only offer JSON mode (llama.cpp, vLLM, Ollama), or plain text parsing. A reply that does not parse
is repaired once; any other failure (timeout, HTTP error, second parse failure, wrong language)
falls back to the embedded drafter with the flag ``llm_fallback``: the agent always gets a suggestion.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from copilot.brand import apply_voice, enforce_banned
from copilot.drafting.base import Draft, DraftRequest
from copilot.drafting.compose import split_sentences
from copilot.drafting.embedded import EmbeddedDrafter, _citation
from copilot.guardrails import screen
from copilot.language import detect_language
from copilot.models import Hit
from copilot.pii import restore
from copilot.prompts import Prompt, load_prompt

__all__ = ["LLMDraft", "LLMDrafter", "StructuredMethod"]

log = logging.getLogger(__name__)
StructuredMethod = Literal["json_schema", "json_object", "none"]
MAX_SOURCES = 6
_NUMBERISH = re.compile(r"\d+(?:[.,]\d+)?%?|\$\s?\d+")
_URL = re.compile(r"https?://([^/\s)\]>\"']+)[^\s)\]>\"']*")
_EMAIL_DOMAIN = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")


def strip_unknown_links(reply: str, allowed: set[str]) -> tuple[str, bool]:
    """Remove sentences linking (or giving an e-mail address) to domains that neither the brand nor a
    cited source uses."""
    def ok(host: str) -> bool:
        host = host.lower().split(":")[0]
        return any(host == d or host.endswith("." + d) for d in allowed)

    kept, removed = [], False
    for sentence in split_sentences(reply):
        hosts = [m.group(1) for m in _URL.finditer(sentence)] + [m.group(1) for m in _EMAIL_DOMAIN.finditer(sentence)]
        if any(not ok(h) for h in hosts):
            removed = True
            continue
        kept.append(sentence)
    if not removed:
        return reply, False  # untouched text keeps its own spacing (CJK has none between sentences)
    return " ".join(k for k in kept if k).strip(), True


class LLMAction(BaseModel):
    id: str
    reason: str = ""
    confidence: float = Field(default=0.5, ge=0, le=1)


class LLMDraft(BaseModel):
    reply: str = Field(min_length=1)
    cited_source_ids: list[str] = Field(default_factory=list)
    next_actions: list[LLMAction] = Field(default_factory=list)
    confidence: float = Field(default=0.5, ge=0, le=1)


def _parse(content: Any) -> LLMDraft:
    text = content if isinstance(content, str) else json.dumps(content)
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end < start:
        raise ValueError("no JSON object in the answer")
    return LLMDraft.model_validate_json(text[start : end + 1])


def _source_block(hits: list[Hit]) -> str:
    parts = []
    for h in hits[:MAX_SOURCES]:
        c = h.chunk
        body = c.text if c.kind == "article" else f"Customer: {c.text}\nAgent: {c.replies[0] if c.replies else ''}"
        parts.append(f'<source id="{c.source_id}" title="{c.title}">\n{body[:1500]}\n</source>')
    return "\n".join(parts) or "(no sources found)"


def _shingles(text: str, n: int = 5) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def unsupported_numbers(reply: str, sources: list[str]) -> list[str]:
    """Sentences stating a number (amount, time frame, percentage) that no cited source contains."""
    support = " ".join(sources)
    out = []
    for sentence in split_sentences(reply):
        nums = _NUMBERISH.findall(sentence)
        if nums and any(n.replace("$", "").strip() not in support for n in nums):
            out.append(sentence.strip())
    return out


class LLMDrafter:
    def __init__(self, chat_model: Any, *, fallback: EmbeddedDrafter, name: str,
                 method: StructuredMethod = "json_object", prompt: Prompt | None = None,
                 action_ids: list[str] | None = None, callbacks: list[Any] | None = None) -> None:
        # LangChain callback handlers (LangSmith, custom tracers) receive every model call.
        self.callbacks = callbacks or []
        self.chat_model = chat_model
        self.fallback = fallback
        self.name = name
        self.method = method
        self.prompt = prompt or load_prompt("draft_reply")
        self.action_ids = action_ids or []

    def _model(self) -> Any:
        if self.method == "json_schema":
            schema = {"name": "draft", "schema": LLMDraft.model_json_schema(), "strict": False}
            return self.chat_model.bind(response_format={"type": "json_schema", "json_schema": schema})
        if self.method == "json_object":
            # "schema" is how llama.cpp's server constrains JSON mode; servers without it ignore the key.
            return self.chat_model.bind(response_format={"type": "json_object", "schema": LLMDraft.model_json_schema()})
        return self.chat_model

    @staticmethod
    def clean_hits(request: DraftRequest) -> tuple[list[Hit], bool]:
        """Sources that carry instructions (a poisoned article or ticket) never reach the model."""
        kept = [h for h in request.hits if not screen(h.chunk.text + "\n" + "\n".join(h.chunk.replies)).injection]
        return kept, len(kept) != len(request.hits)

    def messages(self, request: DraftRequest, visible: list[Hit] | None = None) -> list[Any]:
        """The rendered prompt; ``visible`` are the sources that passed screening (computed if absent)."""
        from langchain_core.messages import HumanMessage, SystemMessage

        if visible is None:
            visible = self.clean_hits(request)[0]
        p, profile = self.prompt, request.profile
        values = {
            "brand_name": profile.name or request.brand, "tone_rules": "; ".join(profile.tone_rules) or profile.tone,
            "language": request.language, "max_words": str(profile.max_words),
            "actions": ", ".join(self.action_ids) or "(none)", "sources": _source_block(visible),
            "ticket": request.outbound_query if request.outbound_query is not None else request.query,
        }
        return [SystemMessage(content=(p.system or "").format(**values)),
                HumanMessage(content=(p.template or "").format(**values))]

    def _call(self, model: Any, messages: list[Any], usage: dict[str, float]) -> Any:
        t0 = time.perf_counter()
        try:
            answer = model.invoke(messages, config={"callbacks": self.callbacks, "run_name": "copilot.draft"})
        finally:
            usage["llm_calls"] = usage.get("llm_calls", 0) + 1
            usage["llm_ms"] = round(usage.get("llm_ms", 0.0) + 1000 * (time.perf_counter() - t0), 2)
        meta = getattr(answer, "usage_metadata", None) or {}
        for key in ("input_tokens", "output_tokens"):
            usage[key] = usage.get(key, 0) + int(meta.get(key, 0) or 0)
        return answer

    def _generate(self, request: DraftRequest, visible: list[Hit], usage: dict[str, float]) -> LLMDraft:
        from langchain_core.messages import AIMessage, HumanMessage

        model = self._model()
        messages = self.messages(request, visible)
        answer = self._call(model, messages, usage)
        try:
            return _parse(answer.content)
        except (ValueError, ValidationError) as exc:
            # One repair round: show the model its answer and the error.
            messages += [AIMessage(content=str(answer.content)),
                         HumanMessage(content=f"That was not a valid JSON object for the schema ({exc}). "
                                              "Answer again with only the JSON object.")]
            return _parse(self._call(model, messages, usage).content)

    def draft(self, request: DraftRequest) -> Draft:
        usage: dict[str, float] = {}
        visible, poisoned = self.clean_hits(request)
        try:
            out = self._generate(request, visible, usage)
        except Exception as exc:  # any failure: the agent still gets a suggestion
            return self._fall_back(request, reason=type(exc).__name__, usage=usage)
        flags: list[str] = []
        if poisoned:
            flags.append("poisoned_source_excluded")
        by_id = {h.source_id: h for h in visible}
        cited = [by_id[s] for s in dict.fromkeys(out.cited_source_ids) if s in by_id]
        if len(cited) != len(set(out.cited_source_ids)):
            flags.append("invalid_citation_removed")
        allowed = {d.lower() for d in request.profile.allowed_domains}
        allowed |= {m.group(1).lower() for h in cited for m in _URL.finditer(h.chunk.url or "")}
        # Checked before the customer's own data is put back: their e-mail is not an unknown link.
        body, had_unknown_link = strip_unknown_links(out.reply.strip(), allowed)
        body = enforce_banned(restore(body, request.pii), request.profile)
        if had_unknown_link:
            flags.append("unknown_link_removed")
        if not body:
            return self._fall_back(request, reason="nothing_left", usage=usage)
        if detect_language(body, default=request.language) != request.language:
            return self._fall_back(request, reason="wrong_language", extra=["wrong_language"], usage=usage)
        confidence = out.confidence
        sources = [h.chunk.text + " " + " ".join(h.chunk.replies) for h in cited]
        body, removed = self._drop_unsafe_sentences(body, request, sources)
        if "number" in removed:
            flags.append("unsupported_claim")
            confidence *= 0.6
        if "prompt" in removed:
            flags.append("prompt_leak_removed")
        if "echo" in removed:
            flags.append("injected_text_removed")
        if not body.strip():
            return self._fall_back(request, reason="nothing_left_after_checks", usage=usage)
        lang, strings = self.fallback._strings(request.language)
        greeting, sign_off, disclaimer = self.fallback._frame(request.profile, request.brand, lang, strings,
                                                              request.customer_name)
        reply = apply_voice(body, request.profile, lang=lang, greeting=greeting, sign_off=sign_off,
                            disclaimer=disclaimer)
        if not cited:
            confidence = min(confidence, 0.3)
        if request.screening.injection:
            flags.append("possible_prompt_injection")
        if request.screening.signals:
            flags.append("escalate")
        return Draft(reply=reply, language=request.language, citations=[_citation(h, h.chunk.text) for h in cited],
                     confidence=round(confidence, 3), flags=flags, prompt_version=self.prompt.id, usage=usage)

    def _drop_unsafe_sentences(self, body: str, request: DraftRequest, sources: list[str]) -> tuple[str, set[str]]:
        """Remove sentences with unsupported numbers, text of our own prompt, or injected instructions."""
        prompt_shingles = _shingles(self.prompt.system or "")
        # Customer text is data: a reply never copies five of its words in a row (injected text).
        ticket_shingles = _shingles(request.outbound_query or request.query)
        kept, removed = [], set()
        for sentence in split_sentences(body):
            if not sentence.strip():
                continue
            sh = _shingles(sentence)
            if unsupported_numbers(sentence, sources):
                removed.add("number")
            elif sh & prompt_shingles:
                removed.add("prompt")
            elif (sh & ticket_shingles) or screen(sentence).injection:
                removed.add("echo")
            else:
                kept.append(sentence)
        if not removed:
            return body, removed
        return " ".join(kept), removed

    def _fall_back(self, request: DraftRequest, *, reason: str, usage: dict[str, float],
                   extra: list[str] | None = None) -> Draft:
        log.warning("LLM drafting failed (%s); the embedded drafter answered", reason)
        draft = self.fallback.draft(request)
        draft.flags = [*draft.flags, "llm_fallback", *(extra or [])]
        draft.usage = usage
        return draft
