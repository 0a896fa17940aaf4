"""The user's YAML config: brand profiles, the action catalog, defaults."""

from __future__ import annotations

import re
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.brand import BrandProfile
from copilot.errors import ConfigError
from copilot.models import EscalationExamples

__all__ = ["ActionSpec", "ApiConfig", "ApiToken", "CopilotConfig", "HelpdeskConfig", "SlackChannel", "SlackConfig",
           "load_config"]


class ActionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    description: str = ""
    when: list[str] = Field(default_factory=list)


class SlackChannel(BaseModel):
    """A watched Slack channel: whose messages are tickets, and for which brand."""

    model_config = ConfigDict(extra="forbid")

    brand: str
    # Bots whose posts are tickets (a helpdesk posting new tickets); other bots are ignored.
    ticket_bots: list[str] = Field(default_factory=list)
    # Finds the helpdesk ticket id in such a post (first group, or the whole match): "Send" then
    # goes to the helpdesk ticket instead of the Slack thread.
    ticket_id_pattern: str | None = None
    # Which helpdesk those ticket ids belong to: "Send" posts the reply there (a public reply).
    helpdesk: Literal["zendesk", "freshdesk"] | None = None
    # When this channel is shared with another organisation (Slack Connect): the internal channel
    # where its drafts go. Unset: each draft goes ephemerally to the home team's agents in the channel.
    internal_channel: str | None = None

    @field_validator("ticket_id_pattern")
    @classmethod
    def _valid_regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from exc
        return v


class SlackConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # channel id -> brand name, or {brand, ticket_bots}
    channels: dict[str, SlackChannel] = Field(default_factory=dict)
    # The workspaces (team ids) whose members may use the copilot; empty: the bot's own workspace.
    # Everyone else (Slack Connect guests from another organisation) is refused.
    home_teams: list[str] = Field(default_factory=list)
    # A user group (id S...) whose members alone may press buttons and run the shortcut or /copilot.
    allowed_usergroup: str | None = None
    # Post sent replies under the agent's name and picture (needs the chat:write.customize scope).
    send_as_agent: bool = False

    @field_validator("channels", mode="before")
    @classmethod
    def _brand_shorthand(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: {"brand": b} if isinstance(b, str) else b for k, b in v.items()}
        return v


class ApiToken(BaseModel):
    """An API client (a helpdesk sidebar, a script). Only the token's SHA-256 is stored here;
    ``copilot token`` makes a token and prints this entry."""

    model_config = ConfigDict(extra="forbid")

    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    # Brands this token may read, cite and write; "*" is every brand.
    brands: list[str] = Field(min_length=1)
    expires: date | None = None


class ApiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tokens: list[ApiToken] = Field(default_factory=list)
    # Browser origins allowed to call the API (helpdesk sidebars): exact origins or patterns
    # like "https://*.zendesk.com".
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_000_000, ge=1_000)


class HelpdeskConfig(BaseModel):
    """Webhook behaviour and where each helpdesk lives; credentials come from the environment."""

    model_config = ConfigDict(extra="forbid")

    brand: str | None = None                 # brand of tickets from this helpdesk (default: default_brand)
    internal_note_on_new_ticket: bool = True  # post the suggestion as an internal note
    learn_from_solved: bool = True           # ingest solved tickets (the learning loop)
    zendesk_subdomain: str | None = None     # acme -> https://acme.zendesk.com
    freshdesk_domain: str | None = None      # acme -> https://acme.freshdesk.com


class CopilotConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_brand: str | None = None
    slack: SlackConfig = Field(default_factory=SlackConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    helpdesk: HelpdeskConfig = Field(default_factory=HelpdeskConfig)
    brands: dict[str, BrandProfile] = Field(default_factory=dict)
    actions: list[ActionSpec] = Field(default_factory=list)
    # Set false to use only the actions listed here.
    builtin_actions: bool = True
    # Brand ("*" for every brand) -> extra escalation examples per reason, and "benign" look-alikes.
    escalation_examples: dict[str, EscalationExamples] = Field(default_factory=dict)

    def brand(self, name: str) -> BrandProfile:
        return self.brands.get(name) or self.brands.get("*") or BrandProfile()

    def escalation_examples_for(self, brand: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key in ("*", brand):
            for reason, examples in self.escalation_examples.get(key, {}).items():
                out[reason] = out.get(reason, []) + examples
        return out

    def action_catalog(self) -> list[ActionSpec]:
        catalog: dict[str, ActionSpec] = {}
        if self.builtin_actions:
            for a in builtin_actions():
                catalog[a.id] = a
        for a in self.actions:
            catalog[a.id] = a
        return list(catalog.values())


def builtin_actions() -> list[ActionSpec]:
    raw = resources.files("copilot.defaults").joinpath("actions.yaml").read_text(encoding="utf-8")
    return [ActionSpec.model_validate(a) for a in yaml.safe_load(raw)["actions"]]


def _where(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return ".".join(str(p) for p in err["loc"]) + f": {err['msg']}"


def load_config(path: Path | None) -> CopilotConfig:
    if path is None:
        return CopilotConfig()
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}", hint="check --config / COPILOT_CONFIG")
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}", where=where) from exc
    if not isinstance(data, dict):
        raise ConfigError("the config must be a YAML mapping", where=str(path))
    try:
        return CopilotConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid config: {_where(exc)}", where=str(path),
                          hint="see the Configuration section of the README") from exc
