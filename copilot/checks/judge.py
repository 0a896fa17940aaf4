"""An LLM as the last judge of grounding: "do these sources support this claim?"."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from copilot.checks.grounding import Judge
from copilot.prompts import Prompt, load_prompt

__all__ = ["llm_judge"]

log = logging.getLogger(__name__)


def llm_judge(chat_model: Any, *, prompt: Prompt | None = None, callbacks: list[Any] | None = None) -> Judge:
    """A grounding judge over any LangChain chat model. A judge that fails says "not supported":
    the claim stays flagged for the agent, which is the safe side."""
    from langchain_core.messages import HumanMessage, SystemMessage

    p = prompt or load_prompt("grounding_judge")
    model = chat_model.bind(response_format={"type": "json_object"})

    def judge(claim: str, sources: Sequence[str]) -> bool:
        values = {"claim": claim, "sources": "\n".join(f"<source>\n{s[:1500]}\n</source>" for s in sources)}
        try:
            answer = model.invoke([SystemMessage(content=(p.system or "").format(**values)),
                                   HumanMessage(content=(p.template or "").format(**values))],
                                  config={"callbacks": callbacks or [], "run_name": "copilot.grounding_judge"})
            text = str(answer.content)
            return bool(json.loads(text[text.find("{"): text.rfind("}") + 1]).get("supported") is True)
        except Exception as exc:
            log.warning("grounding judge failed (%s); the claim stays flagged", type(exc).__name__)
            return False

    return judge
