"""Evaluation cases (JSONL) and suites (YAML)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.errors import ConfigError, InputError
from copilot.evaluation.grading import GradedReply
from copilot.models import Ticket

__all__ = ["EvalCase", "Suite", "dataset_hash", "load_cases", "load_suite"]


class EvalCase(BaseModel):
    """A ticket and what a good suggestion for it looks like (every expectation is optional)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    ticket: Ticket
    expected_sources: list[str] = Field(default_factory=list)
    expected_actions: list[str] = Field(default_factory=list)
    reference_reply: str | None = None       # what the agent actually sent
    must_contain: list[str] = Field(default_factory=list)
    must_not_contain: list[str] = Field(default_factory=list)
    language: str | None = None
    tags: list[str] = Field(default_factory=list)
    # Replies a person graded for this ticket (A/B/C/D/not_shown): a run counts the grade of the reply it
    # produced, so QA leads compare drafters on their own graded set.
    grades: list[GradedReply] = Field(default_factory=list)


class SuiteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: str | None = None        # copilot config file (brands, actions), relative to the suite
    demo: bool = False               # index the bundled demo brand (and use its config)
    kb: list[str] = Field(default_factory=list)        # sources to index, relative to the suite
    tickets: list[str] = Field(default_factory=list)
    brand: str | None = None
    embedder: str | None = None
    llm_model: str | None = None
    llm_base_url: str | None = None
    judge_model: str | None = None
    judge_base_url: str | None = None
    top_k: int | None = None


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    dataset: str                     # JSONL of cases, relative to the suite file
    copilot: SuiteConfig = Field(default_factory=SuiteConfig)
    metrics: list[str] = Field(default_factory=list)   # empty: every metric
    thresholds: dict[str, float] = Field(default_factory=dict)   # metric -> minimum mean
    path: Path | None = None

    def resolve(self, rel: str) -> Path:
        base = self.path.parent if self.path else Path.cwd()
        return (base / rel).resolve()


def load_suite(path: Path) -> Suite:
    if not path.is_file():
        raise InputError(f"suite not found: {path}", hint="pass a suite YAML file, e.g. eval/suites/smoke.yaml")
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        suite = Suite.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", where=str(path)) from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"invalid suite: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}", where=str(path),
                          hint="see the Evaluation section of the README") from exc
    suite.path = path.resolve()
    return suite


def load_cases(path: Path) -> list[EvalCase]:
    """Every case, or an InputError naming the file and line of the first bad one."""
    if not path.is_file():
        raise InputError(f"dataset not found: {path}")
    cases, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = EvalCase.model_validate_json(line)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise InputError(f"invalid case: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}",
                             where=f"{path}:{n}", hint="one JSON case per line; see the README") from exc
        if case.id in seen:
            raise InputError(f"duplicate case id {case.id!r}", where=f"{path}:{n}")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise InputError(f"no cases in {path}")
    return cases


def dataset_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
