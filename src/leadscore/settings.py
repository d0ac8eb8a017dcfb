"""Settings: one place, read from CLI flags, then LEADSCORE_* variables, then leadscore.toml."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Project settings; the scoring model is not configuration (it is a versioned file)."""

    model_config = SettingsConfigDict(env_prefix="LEADSCORE_", extra="forbid")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database; default: leadscore.db in the project folder",
    )
    engine: str = Field(
        default="duckdb",
        description="the batch engine that scores every lead (leadscore.engines.registry)",
    )
    webhook_hosts: list[str] = Field(
        default_factory=list,
        description="the only hosts webhooks may be sent to (a JSON list in "
        'LEADSCORE_WEBHOOK_HOSTS, e.g. ["crm.example.com"]); empty: any host',
    )
