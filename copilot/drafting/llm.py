"""The generative drafter: a LangChain chain asking a chat model for structured JSON.

The chain is two named runnables (``sources`` -> ``generate``) so LangChain callbacks (LangSmith or
any tracer) see each step and the model call inside ``generate``. The prompt is a versioned file
(prompts/draft_reply/). Structured output works with any OpenAI-compatible server:

- ``json_schema``: OpenAI's strict response format (also vLLM, recent Ollama);
- ``tools``: one forced tool call whose arguments are the draft (servers with tool calling);
- ``json_object``: JSON mode, with the schema alongside for servers that honour it (llama.cpp);
- ``none``: plain text, the JSON object is cut out of it.

``auto`` tries them in that order and keeps the first the server accepts. A reply that does not
parse is repaired once; any other failure (timeout, HTTP error, second parse failure) raises
``DraftFailed``, and the application layer lets the embedded drafter answer (flag ``llm_fallback``).
The draft is checked by the check stage like every other. ``draft(..., on_partial=...)`` streams the
reply text while the model writes it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from copilot.drafting.base import Draft, DraftFailed, DraftRequest
from copilot.drafting.embedded import citation_for
from copilot.flags import Flag
from copilot.models import Hit
from copilot.pii import restore
from copilot.prompts import Prompt, load_prompt

__all__ = ["LLMDraft", "LLMDrafter", "StructuredMethod", "method_unsupported"]

log = logging.getLogger(__name__)
StructuredMethod = Literal["json_schema", "tools", "json_object", "none"]
AUTO_ORDER: tuple[StructuredMethod, ...] = ("json_schema", "tools", "json_object", "none")
TOOL_NAME = "draft_reply"
MAX_SOURCES = 6
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


@dataclass
class _State:
    """What flows through the chain for one ticket."""

    request: DraftRequest
    on_partial: Callable[[str], None] | None = None
    usage: dict[str, float] = field(default_factory=dict)
    messages: list[Any] = field(default_factory=list)
    out: LLMDraft | None = None


class LLMDrafter:
    def __init__(self, chat_model: Any, *, name: str, method: StructuredMethod | Literal["auto"] = "json_object",
                 prompt: Prompt | None = None, action_ids: list[str] | None = None,
                 callbacks: list[Any] | None = None) -> None:
        from langchain_core.runnables import RunnableLambda

        # LangChain callback handlers (LangSmith, custom tracers) receive every step and model call.
        self.callbacks = callbacks or []
        self.chat_model = chat_model
        self.name = name
        # "auto" probes on the first calls and settles on the first method the server accepts. The
        # service drafts on several threads at once: the probe state changes under a lock.
        self._candidates: list[StructuredMethod] = list(AUTO_ORDER) if method == "auto" else [method]
        self._probe = threading.Lock()
        self.prompt = prompt or load_prompt("draft_reply")
        self.prompt_text = self.prompt.system or ""
        self.action_ids = action_ids or []
        self.chain = (RunnableLambda(self._sources, name="sources")
                      | RunnableLambda(self._generate_step, name="generate")).with_config(run_name="copilot.draft")

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

    def messages(self, request: DraftRequest) -> list[Any]:
        """The rendered prompt: the request's sources (already screened) and the ticket as data."""
        from langchain_core.messages import HumanMessage, SystemMessage

        visible = request.hits
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
        """Draft a reply body; ``on_partial`` receives the reply text so far while the model writes it
        (before checks: only the checked suggestion may be sent)."""
        state = _State(request, on_partial)
        try:
            self.chain.invoke(state, config={"callbacks": self.callbacks})
        except Exception as exc:
            raise DraftFailed(f"{type(exc).__name__}: {exc}"[:300], usage=state.usage) from exc
        out = state.out
        assert out is not None
        by_id = {h.source_id: h for h in request.hits}
        named = list(dict.fromkeys(out.cited_source_ids))
        cited = [citation_for(by_id[s], by_id[s].chunk.text) for s in named if s in by_id]
        # A source the model made up is not cited: the draft says so (the check stage would drop it too).
        flags: list[str] = [Flag.INVALID_CITATION_REMOVED] if len(cited) != len(named) else []
        return Draft(body=out.reply.strip(), language=request.language, citations=cited, flags=flags,
                     confidence=out.confidence, prompt_version=self.prompt.id, usage=state.usage)

    def _sources(self, state: _State) -> _State:
        state.messages = self.messages(state.request)
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

        messages = state.messages
        while True:
            method = self.method
            model = self._model(method)
            try:
                answer = self._call(model, messages, state, config, stream=True)
                break
            except Exception as exc:
                if method_unsupported(exc) and self._give_up(method):
                    continue
                raise
        with self._probe:
            if len(self._candidates) > 1 and self._candidates[0] == method:
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

    def _give_up(self, method: StructuredMethod) -> bool:
        """The server refused ``method``: move on to the next one (True), unless none is left."""
        with self._probe:
            if self._candidates[0] != method:
                return True  # another thread already moved on
            if len(self._candidates) == 1:
                return False
            log.info("the server does not accept structured output by %s; trying %s", method, self._candidates[1])
            self._candidates.pop(0)
            return True
