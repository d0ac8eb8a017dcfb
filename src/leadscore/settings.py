"""Settings: one place, read from CLI flags, then LEADSCORE_* variables, then leadscore.toml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from leadscore._types import Outcome


class CrmStage(BaseModel):
    """What a CRM's stage or status value means here: the model stage the lead has reached
    (stages only move forward, so an earlier one changes nothing) and the outcome it records
    (``Customer`` and ``Closed Won`` are wins that training learns from). Both may be absent:
    a value that means nothing here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: str | None = None
    outcome: Outcome | None = None


class Lake(BaseModel):
    """Where ``leadscore score --engine spark`` (and ``leadscore train --lake``)
    reads and writes, for data that lives in a data lake rather than the project's database.
    Each place is a Parquet path (a folder or a file, local or any URL Spark reads:
    ``s3a://``, ``abfss://``, ``dbfs:/``), ``delta:PATH`` for a Delta table by path (its
    current version, read through its log; a local folder holding a ``_delta_log`` is taken
    as one), or ``table:NAME`` for a table of the Spark session's catalog. Results are
    written as Parquet or to a table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    leads: str = Field(description="lead_id, attributes (JSON text), account_id (optional)")
    events: str = Field(
        description="lead_id, anonymous_id (optional), type, event, timestamp (UTC "
        "microseconds or a Spark timestamp), properties (JSON text)"
    )
    identities: str | None = Field(
        default=None, description="anonymous_id, lead_id: who anonymous events belong to"
    )
    outcomes: str | None = Field(
        default=None,
        description="lead_id, outcome, at (UTC microseconds or a Spark timestamp): what "
        "became of the leads ('converted' or 'won' count), for 'leadscore train' from the lake",
    )
    results: str = Field(
        description="a Parquet folder of every run's results, partitioned by as_of and "
        "model; each model continues the stages of its latest earlier run found there"
    )
    predictions: str | None = Field(
        default=None,
        description="where 'score --model NAME' writes a trained model's predictions, "
        "partitioned by as_of and model (default: beside results, its name followed by "
        "-predictions, or _predictions for a table)",
    )
    partitions: int | None = Field(
        default=None,
        gt=0,
        description="partitions the leads are spread over (default: "
        "the session's spark.sql.shuffle.partitions)",
    )

    @field_validator("results", "predictions")
    @classmethod
    def _written_as_parquet_or_a_table(cls, place: str | None) -> str | None:
        if place is not None and place.startswith("delta:"):
            raise ValueError(
                "results are written as Parquet (a path) or to a table (table:NAME), not to "
                "a Delta path; a Delta table registered in the catalog can be named as "
                "table:NAME"
            )
        return place

    def predictions_place(self) -> str:
        """Where trained models' predictions go: ``predictions``, else beside ``results``."""
        if self.predictions is not None:
            return self.predictions
        if self.results.startswith("table:"):
            return f"{self.results}_predictions"
        return f"{self.results.rstrip('/')}-predictions"


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
    lake: Lake | None = Field(
        default=None,
        description="a data lake that leadscore score --engine spark reads and writes "
        "instead of the database ([lake] in leadscore.toml)",
    )
    crm_stages: dict[str, CrmStage | str] = Field(
        default_factory=dict,
        description="what CRM stage values (HubSpot Lifecycle Stage, Salesforce Lead Status) "
        "mean, over the shipped HubSpot and Salesforce defaults: a stage name, or "
        '{stage = "SQL", outcome = "won"}; an empty string ignores a value',
    )
    webhook_hosts: list[str] = Field(
        default_factory=list,
        description="the only hosts webhooks may be sent to (a JSON list in "
        'LEADSCORE_WEBHOOK_HOSTS, e.g. ["crm.example.com"]); empty: any host',
    )
