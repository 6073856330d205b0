"""Process settings, read from the environment (``APG_``-prefixed variables, plus ``DATABASE_URL``).

The entry point builds one :class:`Settings` and passes it down; nothing reads the environment or
connects to anything at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./apg-workflow.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APG_", extra="ignore", frozen=True, populate_by_name=True)

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "APG_DATABASE_URL"),
        description="sqlite:///path/to/file.db (the default, in the working directory) or "
        "postgresql://user:password@host:port/database.",
    )
    tenant: str = Field("default", description="The tenant the command-line commands act for.")
    log_level: str = Field("INFO", description="Logging level of the long-running commands.")
    database_pool_size: int = Field(10, ge=1, description="Connections per process (PostgreSQL).")

    worker_concurrency: int = Field(10, ge=1, le=10_000, description="Jobs one worker runs at once.")
    max_concurrent_executions: int | None = Field(
        None,
        ge=1,
        validation_alias=AliasChoices("APG_MAX_CONCURRENT_EXECUTIONS", "MAX_CONCURRENT_EXECUTIONS"),
        description="Root executions active at once in the whole database; the starts beyond it queue. "
        "Give every process the same value. Unset: no global limit.",
    )
    job_timeout_seconds: float = Field(300.0, gt=0, description="A component call running longer fails.")
    lease_margin_seconds: float = Field(
        30.0, gt=0, description="A claimed job is claimable again this long after its timeout."
    )
    poll_interval_seconds: float = Field(
        1.0, gt=0, description="How often workers and the timer poller look for due work without a wake-up."
    )
    shutdown_grace_seconds: float = Field(
        30.0, ge=0, description="On SIGTERM, how long running jobs may finish before they are released."
    )
    message_ttl_seconds: float = Field(
        3600.0, ge=0, description="How long a message that matched no subscription is buffered."
    )
    outbox_retention_seconds: float = Field(
        7 * 24 * 3600.0, gt=0, description="Undelivered outbox events older than this are dropped."
    )
    environment: Literal["development", "production"] = Field(
        "development",
        description="development allows the well-known development secret key; production refuses it.",
    )
    jwt_secret: SecretStr = Field(
        SecretStr(""),
        description="The key that signs access tokens (HS256); unset: a development key (development only).",
    )
    access_token_minutes: int = Field(60, ge=1, le=7 * 24 * 60, description="How long an access token lasts.")
    max_body_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, description="Request bodies larger than this are refused with 413."
    )
    metrics_token: SecretStr = Field(
        SecretStr(""), description="When set, /metrics asks for this bearer token; open otherwise."
    )
    secret_keys: SecretStr = Field(
        SecretStr(""),
        description="Keys that encrypt connection secrets, comma-separated, the current one first "
        "(`apg-workflow connections generate-key`). Unset: the development key, in development only.",
    )
    storage_root: Path = Field(
        Path("storage"),
        validate_default=True,
        description="The directory file components read and write in (nothing outside it).",
    )
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts, *.suffixes, IP addresses or CIDR networks webhook subscriptions may target "
        "although they are private or loopback (the SSRF guard refuses them otherwise).",
    )
    redis_url: str | None = Field(
        None, description="redis://host:port/db: wakes the API processes' event tails across machines."
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].split("+", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(f"DATABASE_URL must start with sqlite:// or postgresql:// (got '{scheme}://…')")
        return value

    @field_validator("storage_root")
    @classmethod
    def _absolute_root(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @property
    def lease_seconds(self) -> float:
        """How long a claim holds a job: its timeout plus a margin, so no heartbeat is needed."""
        return self.job_timeout_seconds + self.lease_margin_seconds


__all__ = ["DEFAULT_DATABASE_URL", "Settings"]
