"""One factory for every chat model the copilot talks to: the drafter, the grounding judge and the
evaluation judge, OpenAI or any OpenAI-compatible server, configured by settings alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from copilot.errors import ConfigError
from copilot.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["Purpose", "chat_model", "chat_model_name"]

Purpose = Literal["draft", "judge"]


def _model_and_url(settings: Settings, purpose: Purpose) -> tuple[str | None, str | None]:
    if purpose == "judge":
        return settings.judge_model or settings.llm_model, settings.judge_base_url or settings.llm_base_url
    return settings.llm_model, settings.llm_base_url


def chat_model_name(settings: Settings, purpose: Purpose = "draft") -> str | None:
    """``openai:<model>`` or ``openai-compatible:<model>``; None when no model is configured."""
    model, base_url = _model_and_url(settings, purpose)
    if not model:
        return None
    return f"{'openai-compatible' if base_url else 'openai'}:{model}"


def chat_model(settings: Settings, purpose: Purpose = "draft", *, temperature: float | None = None) -> BaseChatModel:
    """The chat model for a purpose; ConfigError when none is configured or it has no credentials."""
    from langchain_openai import ChatOpenAI

    model, base_url = _model_and_url(settings, purpose)
    if not model:
        hint = "set COPILOT_JUDGE_MODEL (or COPILOT_LLM_MODEL)" if purpose == "judge" else "set COPILOT_LLM_MODEL"
        raise ConfigError(f"no chat model is configured for {purpose}", hint=hint)
    if settings.openai_api_key is None and not base_url:
        raise ConfigError(f"{model} needs OPENAI_API_KEY",
                          hint="set OPENAI_API_KEY, or COPILOT_LLM_BASE_URL for an OpenAI-compatible server")
    key = settings.openai_api_key or SecretStr("not-needed")
    # OpenAI takes max_completion_tokens; several compatible servers (llama.cpp) only max_tokens.
    limit: dict[str, Any] = {"extra_body": {"max_tokens": settings.llm_max_tokens}} if base_url \
        else {"max_completion_tokens": settings.llm_max_tokens}
    if temperature is None:
        temperature = 0.0 if purpose == "judge" else 0.2
    # max_retries: the openai client retries connection errors, 408/409/429 and 5xx with exponential
    # backoff (honouring Retry-After); the timeout bounds each attempt.
    return ChatOpenAI(model=model, api_key=key, base_url=base_url, timeout=settings.llm_timeout_s,
                      max_retries=settings.llm_max_retries, temperature=temperature, stream_usage=True, **limit)
