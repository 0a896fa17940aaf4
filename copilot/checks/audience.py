"""Text written for agents, not customers: found in the sources, kept out of every reply, shown as guidance.

Knowledge bases hold agent guidelines ("Tell them that you will send the reset code", "The customer is
complaining about...", a code to offer only if the customer threatens to cancel) and past replies carry
internal notes pasted in by mistake. Such text is for the agent: quoted to a customer it is wrong and
often harmful.

- An article marked ``audience: agent`` is agent text as a whole; so is a section under a heading
  such as "Internal notes" or "For agents".
- Elsewhere, sentence by sentence, the rules of ``copilot/defaults/agent_text.yaml`` (English,
  Vietnamese, Chinese) decide.

The pipeline takes agent text out of the sources before any drafter sees them (``split_sources``) and
the check stage drops any reply sentence the rules call agent-directed (``agent_directed``), whoever
wrote it: one place for every drafter and every rewrite.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from copilot.models import Guidance, Hit
from copilot.text import join_sentences, split_sentences

__all__ = ["GUIDANCE_CHARS", "MAX_GUIDANCE", "Rules", "agent_directed", "agent_sentences", "rules", "split_sources"]

MAX_GUIDANCE = 3          # sources whose agent text is shown
GUIDANCE_CHARS = 600      # of each source's agent text
HEADING_CHARS = 60        # a line this short, without a full stop, may be a section heading


@dataclass(frozen=True)
class _Rule:
    id: str
    pattern: re.Pattern[str]
    unless_reader: bool


@dataclass(frozen=True)
class Rules:
    version: int
    rules: tuple[_Rule, ...]
    headings: re.Pattern[str]
    reader: re.Pattern[str]

    def match(self, sentence: str) -> str | None:
        """The id of the first rule that calls the sentence agent-directed, or None."""
        addressed: bool | None = None
        for rule in self.rules:
            if not rule.pattern.search(sentence):
                continue
            if rule.unless_reader:
                addressed = bool(self.reader.search(sentence)) if addressed is None else addressed
                if addressed:
                    continue
            return rule.id
        return None


@lru_cache(maxsize=1)
def rules() -> Rules:
    """The seed rules (package data), compiled once."""
    raw = yaml.safe_load(resources.files("copilot.defaults").joinpath("agent_text.yaml").read_text(encoding="utf-8"))
    return Rules(
        version=int(raw["version"]),
        rules=tuple(_Rule(str(r["id"]), re.compile(str(r["pattern"]), re.I), bool(r.get("unless_reader")))
                    for r in raw["rules"]),
        headings=re.compile("|".join(f"(?:{h})" for h in raw["headings"]), re.I),
        reader=re.compile("|".join(f"(?:{p})" for p in raw["reader"].values()), re.I),
    )


def agent_directed(sentence: str) -> bool:
    return rules().match(sentence) is not None


def agent_sentences(text: str) -> tuple[str, list[str]]:
    """(the text without its agent-directed sentences, those sentences), line by line so a passage
    keeps its layout. A heading line for agents ("Internal notes": a short section merged into its
    neighbour keeps its heading as a line) makes the rest of the text agent text."""
    kept_lines: list[str] = []
    found: list[str] = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _heading_line(line):
            found += [s for rest in lines[i + 1 :] for s in split_sentences(rest)]
            break
        sentences = split_sentences(line)
        agent = [s for s in sentences if agent_directed(s)]
        if not agent:
            kept_lines.append(line)
            continue
        found += agent
        rest = [s for s in sentences if s not in agent]
        if rest:
            kept_lines.append(join_sentences(rest))
    return ("\n".join(kept_lines) if found else text), found


def _heading_line(line: str) -> bool:
    line = line.strip().lstrip("#").strip()
    return 0 < len(line) <= HEADING_CHARS and not line.endswith((".", "。", "?", "？", "!", "！", ":", "：")) \
        and bool(rules().headings.search(line))


def _agent_section(title: str) -> bool:
    """A section whose heading says it is for agents (the article's own title is not a heading)."""
    _, _, heading = title.partition(" › ")
    return bool(heading and rules().headings.search(heading))


def split_sources(hits: Sequence[Hit]) -> tuple[list[Hit], list[Guidance]]:
    """(the sources as the drafters may use them: without agent text, the agent text as guidance, a few
    sources in rank order, each cut to a bounded length). The index holds redacted text, and so does
    the guidance."""
    kept: list[Hit] = []
    found: dict[str, tuple[str, list[str]]] = {}
    for h in hits:
        c = h.chunk
        title, _, passage = c.text.partition("\n") if c.kind == "article" else ("", "", c.text)
        if c.kind == "article" and (c.audience == "agent" or _agent_section(c.title)):
            _collect(found, c.source_id, c.title, [passage.strip() or title])
            continue
        agent: list[str] = []
        if c.kind == "article":
            passage, agent = agent_sentences(passage)
            text = f"{title}\n{passage}".strip() if passage.strip() else ""
            replies = c.replies
        else:
            text, replies = c.text, []
            for reply in c.replies:
                rest, gone = agent_sentences(reply)
                agent += gone
                if rest.strip():
                    replies.append(rest)
        if agent:
            _collect(found, c.source_id, c.title, agent)
        if text and (c.kind == "article" or replies or not c.replies):
            kept.append(h if not agent else h.model_copy(update={"chunk": c.model_copy(update={
                "text": text, "replies": replies})}))
    guidance = [Guidance(source_id=sid, title=title.split(" › ")[0], text=_bounded(" ".join(parts)))
                for sid, (title, parts) in list(found.items())[:MAX_GUIDANCE]]
    return kept, guidance


def _collect(found: dict[str, tuple[str, list[str]]], source_id: str, title: str, parts: list[str]) -> None:
    _, seen = found.setdefault(source_id, (title, []))
    seen.extend(p for p in parts if p and p not in seen)


def _bounded(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= GUIDANCE_CHARS:
        return text
    return text[: GUIDANCE_CHARS - 1].rstrip() + "…"
