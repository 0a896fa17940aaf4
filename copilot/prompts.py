"""Versioned prompt and template files under ``prompts/<name>/<version>.yaml``.

Published versions are never edited; a change is a new version. Every
suggestion records the ``name/version`` that produced it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from string import Formatter
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.errors import PromptError

__all__ = ["Prompt", "load_prompt", "prompts_root"]

_VERSION = re.compile(r"^v(\d+)$")


class Prompt(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    version: str
    rationale: str = ""
    variables: list[str] = Field(default_factory=list)
    system: str | None = None
    template: str | None = None
    languages: dict[str, dict[str, str]] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.name}/{self.version}"

    def texts(self) -> list[str]:
        out = [t for t in (self.system, self.template) if t]
        for strings in self.languages.values():
            out.extend(strings.values())
        return out

    def used_variables(self) -> set[str]:
        return {field for text in self.texts() for _, field, _, _ in Formatter().parse(text) if field}

    def for_language(self, lang: str) -> dict[str, str]:
        """The language's strings, with English filling any gap."""
        base = dict(self.languages.get("en", {}))
        base.update(self.languages.get(lang, {}))
        return base


def prompts_root(override: Path | None = None) -> Path:
    if override is not None:
        return override
    # Installed wheel: packaged copy. Source checkout / editable install: the repo's prompts/.
    packaged = resources.files("copilot").joinpath("_prompts")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "prompts"


@lru_cache(maxsize=64)
def _load(root: Path, name: str, version: str) -> Prompt:
    folder = root / name
    if not folder.is_dir():
        raise PromptError(f"no prompt named {name!r} in {root}")
    if version == "latest":
        found = sorted((int(m.group(1)), p.stem) for p in folder.glob("v*.yaml") if (m := _VERSION.match(p.stem)))
        if not found:
            raise PromptError(f"prompt {name!r} has no versions in {folder}")
        version = found[-1][1]
    path = folder / f"{version}.yaml"
    if not path.is_file():
        raise PromptError(f"prompt {name!r} has no version {version!r}", where=str(folder))
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        prompt = Prompt.model_validate({"name": name, "version": version, **(data or {})})
    except (yaml.YAMLError, ValidationError) as exc:
        raise PromptError(f"invalid prompt file: {exc}".splitlines()[0], where=str(path)) from exc
    if prompt.name != name or prompt.version != version:
        raise PromptError(f"file declares {prompt.id}, expected {name}/{version}", where=str(path))
    used = prompt.used_variables()
    if used != set(prompt.variables):
        missing, unused = sorted(used - set(prompt.variables)), sorted(set(prompt.variables) - used)
        raise PromptError(f"variables do not match: undeclared {missing}, declared but unused {unused}",
                          where=str(path), hint="list every {placeholder} under `variables:` and nothing else")
    return prompt


def load_prompt(name: str, version: str = "latest", *, root: Path | None = None) -> Prompt:
    return _load(prompts_root(root), name, version)
