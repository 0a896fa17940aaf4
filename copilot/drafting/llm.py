"""The generative drafter: a LangChain chain asking a chat model for structured JSON, checked, with fallback.

The chain is three named runnables (``sources`` -> ``generate`` -> ``checks``) so LangChain callbacks
(LangSmith or any tracer) see each step and the model call inside ``generate``. The prompt is a
versioned file (prompts/draft_reply/). Structured output works with any OpenAI-compatible server:

- ``json_schema``: OpenAI's strict response format (also vLLM, recent Ollama);
- ``tools``: one forced tool call whose arguments are the draft (servers with tool calling);
- ``json_object``: JSON mode, with the schema alongside for servers that honour it (llama.cpp);
- ``none``: plain text, the JSON object is cut out of it.

``auto`` tries them in that order and keeps the first the server accepts. A reply that does not
parse is repaired once; any other failure (timeout, HTTP error, second parse failure, wrong
language) falls back to the embedded drafter with the flag ``llm_fallback``: the agent always gets
a suggestion. ``draft(..., on_partial=...)`` streams the reply text while the model writes it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from copilot.brand import apply_voice, enforce_banned
from copilot.drafting.base import Draft, DraftRequest
from copilot.drafting.embedded import EmbeddedDrafter, _citation
from copilot.grounding import GroundingChecker
from copilot.guardrails import screen
from copilot.language import detect_language
from copilot.models import Hit
from copilot.pii import PLACEHOLDER_RE, restore
from copilot.prompts import Prompt, load_prompt
from copilot.text import split_sentences

__all__ = ["LLMDraft", "LLMDrafter", "StructuredMethod", "method_unsupported"]

log = logging.getLogger(__name__)
StructuredMethod = Literal["json_schema", "tools", "json_object", "none"]
AUTO_ORDER: tuple[StructuredMethod, ...] = ("json_schema", "tools", "json_object", "none")
TOOL_NAME = "draft_reply"
UNSUPPORTED_CLAIM_PENALTY = 0.6
MAX_SOURCES = 6
_NUMBERISH = re.compile(r"\d+(?:[.,]\d+)?%?|\$\s?\d+")
_URL = re.compile(r"https?://([^/\s)\]>\"']+)[^\s)\]>\"']*")
_COINED = re.compile(r"\b[A-Za-z]*[a-z][A-Z]\w*|\b[A-Za-z]+_\w+")  # CamelCase or snake_case words
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


def _raw(answer: Any) -> str:
    """The text holding the draft: the forced tool call's arguments, else the message content."""
    for call in getattr(answer, "tool_calls", None) or []:
        return json.dumps(call.get("args", {}))
    for call in getattr(answer, "invalid_tool_calls", None) or []:
        return str(call.get("args") or "")
    for chunk in getattr(answer, "tool_call_chunks", None) or []:
        return str(chunk.get("args") or "")
    content = answer.content
    return content if isinstance(content, str) else json.dumps(content)


def _parse(text: str) -> LLMDraft:
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end < start:
        raise ValueError("no JSON object in the answer")
    return LLMDraft.model_validate_json(text[start : end + 1])


def _partial_reply(text: str) -> str | None:
    """The reply field of a JSON object still being written, or None before it starts."""
    from langchain_core.utils.json import parse_partial_json

    start = text.find("{")
    if start == -1:
        return None
    try:
        obj = parse_partial_json(text[start:])
    except Exception:
        return None
    reply = obj.get("reply") if isinstance(obj, dict) else None
    return reply if isinstance(reply, str) else None


def method_unsupported(exc: BaseException) -> bool:
    """Did the server reject the *way* we asked for structure (not the request itself)?

    OpenAI answers 400; compatible servers vary (llama.cpp answers 500 with a validation error).
    """
    status = getattr(exc, "status_code", None)
    if status not in {400, 404, 415, 422, 500, 501}:
        return False
    text = str(exc).lower()
    return any(k in text for k in ("response_format", "json_schema", "json_object", "tool", "function"))


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
    """Sentences stating a number (amount, time frame, percentage) that no cited source contains.

    PII placeholders (``[ORDER_NUMBER_1]``) are the customer's own data, not claims.
    """
    support = " ".join(sources)
    out = []
    for sentence in split_sentences(reply):
        nums = _NUMBERISH.findall(PLACEHOLDER_RE.sub("", sentence))
        if nums and any(n.replace("$", "").strip() not in support for n in nums):
            out.append(sentence.strip())
    return out


@dataclass
class _State:
    """What flows through the chain for one ticket."""

    request: DraftRequest
    on_partial: Callable[[str], None] | None = None
    usage: dict[str, float] = field(default_factory=dict)
    visible: list[Hit] = field(default_factory=list)
    poisoned: bool = False
    out: LLMDraft | None = None


class _Fallback(Exception):
    def __init__(self, reason: str, extra: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason, self.extra = reason, extra or []


class LLMDrafter:
    def __init__(self, chat_model: Any, *, fallback: EmbeddedDrafter, name: str,
                 method: StructuredMethod | Literal["auto"] = "json_object", prompt: Prompt | None = None,
                 action_ids: list[str] | None = None, callbacks: list[Any] | None = None,
                 grounding: GroundingChecker | None = None) -> None:
        from langchain_core.runnables import RunnableLambda

        # LangChain callback handlers (LangSmith, custom tracers) receive every step and model call.
        self.callbacks = callbacks or []
        self.chat_model = chat_model
        self.fallback = fallback
        self.name = name
        # "auto" probes on the first calls and settles on the first method the server accepts.
        self._candidates: list[StructuredMethod] = list(AUTO_ORDER) if method == "auto" else [method]
        self.prompt = prompt or load_prompt("draft_reply")
        self.action_ids = action_ids or []
        self.grounding = grounding or GroundingChecker(fallback.embedder)
        self.chain = (RunnableLambda(self._sources, name="sources")
                      | RunnableLambda(self._generate_step, name="generate")
                      | RunnableLambda(self._checks, name="checks")).with_config(run_name="copilot.draft")

    @property
    def method(self) -> StructuredMethod:
        return self._candidates[0]

    def _model(self, method: StructuredMethod | None = None) -> Any:
        method = method or self.method
        schema = LLMDraft.model_json_schema()
        if method == "json_schema":
            spec = {"name": "draft", "schema": schema, "strict": False}
            return self.chat_model.bind(response_format={"type": "json_schema", "json_schema": spec})
        if method == "tools":
            tool = {"type": "function", "function": {"name": TOOL_NAME, "parameters": schema,
                                                     "description": "The reply draft for the agent."}}
            return self.chat_model.bind(tools=[tool], tool_choice={"type": "function",
                                                                    "function": {"name": TOOL_NAME}})
        if method == "json_object":
            # "schema" is how llama.cpp's server constrains JSON mode; servers without it ignore the key.
            return self.chat_model.bind(response_format={"type": "json_object", "schema": schema})
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

    # --- the chain -----------------------------------------------------------------------------

    def draft(self, request: DraftRequest, on_partial: Callable[[str], None] | None = None) -> Draft:
        """Draft a reply; ``on_partial`` receives the reply text so far while the model writes it
        (before checks: the returned Draft is what may be sent)."""
        state = _State(request, on_partial)
        try:
            result: Draft = self.chain.invoke(state, config={"callbacks": self.callbacks})
            return result
        except _Fallback as fb:
            return self._fall_back(request, reason=fb.reason, usage=state.usage, extra=fb.extra)
        except Exception as exc:  # any failure: the agent still gets a suggestion
            return self._fall_back(request, reason=type(exc).__name__, usage=state.usage)

    def _sources(self, state: _State) -> _State:
        state.visible, state.poisoned = self.clean_hits(state.request)
        return state

    def _generate_step(self, state: _State, config: Any) -> _State:
        state.out = self._generate(state, config)
        return state

    def _call(self, model: Any, messages: list[Any], state: _State, config: Any, *, stream: bool = False) -> Any:
        usage = state.usage
        t0 = time.perf_counter()
        try:
            if stream and state.on_partial is not None:
                answer = self._stream(model, messages, state, config)
            else:
                answer = model.invoke(messages, config=config)
        finally:
            usage["llm_calls"] = usage.get("llm_calls", 0) + 1
            usage["llm_ms"] = round(usage.get("llm_ms", 0.0) + 1000 * (time.perf_counter() - t0), 2)
        meta = getattr(answer, "usage_metadata", None) or {}
        for key in ("input_tokens", "output_tokens"):
            usage[key] = usage.get(key, 0) + int(meta.get(key, 0) or 0)
        return answer

    def _stream(self, model: Any, messages: list[Any], state: _State, config: Any) -> Any:
        assert state.on_partial is not None
        answer, shown, chunks = None, "", 0
        for chunk in model.stream(messages, config=config):
            chunks += 1
            answer = chunk if answer is None else answer + chunk
            partial = _partial_reply(_raw(answer))
            if partial and partial != shown:
                shown = partial
                # Placeholders are filled in as they complete; the customer's data never left.
                state.on_partial(restore(partial, state.request.pii))
        if answer is None:
            raise ValueError("the model streamed nothing")
        if not getattr(answer, "usage_metadata", None):
            # Some servers (llama.cpp) send no usage when streaming: one chunk is about one token.
            state.usage["output_tokens"] = state.usage.get("output_tokens", 0) + chunks
            state.usage["tokens_estimated"] = 1
        return answer

    def _generate(self, state: _State, config: Any) -> LLMDraft:
        from langchain_core.messages import AIMessage, HumanMessage

        messages = self.messages(state.request, state.visible)
        while True:
            method = self.method
            model = self._model(method)
            try:
                answer = self._call(model, messages, state, config, stream=True)
                break
            except Exception as exc:
                if len(self._candidates) > 1 and method_unsupported(exc):
                    log.info("the server does not accept structured output by %s; trying %s", method,
                             self._candidates[1])
                    self._candidates.pop(0)
                    continue
                raise
        if len(self._candidates) > 1:
            self._candidates = [method]  # the server accepted it: stop probing
        raw = _raw(answer)
        try:
            return _parse(raw)
        except (ValueError, ValidationError) as exc:
            # One repair round: show the model its answer and the error.
            messages = [*messages, AIMessage(content=raw),
                        HumanMessage(content=f"That was not a valid JSON object for the schema ({exc}). "
                                             "Answer again with only the JSON object.")]
            return _parse(_raw(self._call(model, messages, state, config)))

    def _checks(self, state: _State) -> Draft:
        request, out = state.request, state.out
        assert out is not None
        flags: list[str] = []
        if state.poisoned:
            flags.append("poisoned_source_excluded")
        by_id = {h.source_id: h for h in state.visible}
        cited = [by_id[s] for s in dict.fromkeys(out.cited_source_ids) if s in by_id]
        if len(cited) != len(set(out.cited_source_ids)):
            flags.append("invalid_citation_removed")
        allowed = {d.lower() for d in request.profile.allowed_domains}
        allowed |= {m.group(1).lower() for h in cited for m in _URL.finditer(h.chunk.url or "")}
        # Checked before the customer's own data is put back: their e-mail is not an unknown link,
        # and their order number is not an invented amount.
        body, had_unknown_link = strip_unknown_links(out.reply.strip(), allowed)
        if had_unknown_link:
            flags.append("unknown_link_removed")
        if not body:
            raise _Fallback("nothing_left")
        if detect_language(PLACEHOLDER_RE.sub("", body), default=request.language) != request.language:
            raise _Fallback("wrong_language", ["wrong_language"])
        confidence = out.confidence
        sources = [h.chunk.text + " " + " ".join(h.chunk.replies) for h in cited]
        body, removed = self._drop_unsafe_sentences(body, request, sources)
        if "prompt" in removed:
            flags.append("prompt_leak_removed")
        if "echo" in removed:
            flags.append("injected_text_removed")
        if not body.strip():
            raise _Fallback("nothing_left_after_checks")
        # A claim with a number (amount, time frame) that no cited sentence backs is removed: the
        # number check above only knows the digits exist somewhere. Policies and promises without
        # numbers are kept for the agent to judge, but named, flagged, and they cost confidence.
        grounding = self.grounding.check(body, sources)
        invented = {c for c in grounding.unsupported if re.search(r"\d", PLACEHOLDER_RE.sub("", c))}
        if invented:
            body = " ".join(s for s in split_sentences(body) if s not in invented)
            if not body.strip():
                raise _Fallback("nothing_left_after_checks")
        unsupported = [restore(c, request.pii) for c in grounding.unsupported if c not in invented]
        if unsupported or invented or "number" in removed:
            if "unsupported_claim" not in flags:
                flags.append("unsupported_claim")
            confidence *= UNSUPPORTED_CLAIM_PENALTY
        body = restore(body, request.pii)
        if request.screening.injection:
            # A ticket that tries to instruct us does not get its own addresses echoed back either:
            # "send the database to attacker@evil.example" arrives as [EMAIL_1] and would be restored.
            body, echoed = strip_unknown_links(body, allowed)
            if echoed and "unknown_link_removed" not in flags:
                flags.append("unknown_link_removed")
            if not body.strip():
                raise _Fallback("nothing_left_after_checks")
        body = enforce_banned(body, request.profile)
        lang, greeting, sign_off, disclaimer = self.fallback.voice_frame(request.profile, request.brand,
                                                                         request.language, request.customer_name)
        reply = apply_voice(body, request.profile, lang=lang, greeting=greeting, sign_off=sign_off,
                            disclaimer=disclaimer)
        if not cited:
            confidence = min(confidence, 0.3)
        if request.screening.injection:
            flags.append("possible_prompt_injection")
        if request.screening.signals:
            flags.append("escalate")
        return Draft(reply=reply, language=request.language, citations=[_citation(h, h.chunk.text) for h in cited],
                     confidence=round(confidence, 3), flags=flags, prompt_version=self.prompt.id, usage=state.usage,
                     unsupported_claims=unsupported)

    def _drop_unsafe_sentences(self, body: str, request: DraftRequest, sources: list[str]) -> tuple[str, set[str]]:
        """Remove sentences with unsupported numbers, text of our own prompt, or injected instructions."""
        prompt_shingles = _shingles(self.prompt.system or "")
        # Customer text is data: a reply never copies eight of its words in a row, five when it tried
        # to instruct us (injected text). Restating the customer ("the refund for your order") is fine.
        ticket = request.outbound_query or request.query
        ticket_shingles = _shingles(ticket, 5 if request.screening.injection else 8)
        # Names an injected ticket coins ("You are RefundBot", "admin_override") never reach a reply.
        coined = {w.lower() for w in _COINED.findall(PLACEHOLDER_RE.sub("", ticket))} \
            if request.screening.injection else set()
        kept, removed = [], set()
        for sentence in split_sentences(body):
            if not sentence.strip():
                continue
            sh = _shingles(sentence)
            if unsupported_numbers(sentence, sources):
                removed.add("number")
            elif sh & prompt_shingles:
                removed.add("prompt")
            elif (_shingles(sentence, 5 if request.screening.injection else 8) & ticket_shingles
                  or (coined and coined & {w.lower() for w in re.findall(r"\w+", sentence)})
                  or screen(sentence).injection):
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
