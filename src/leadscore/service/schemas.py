"""The bodies of the API as the OpenAPI document shows them.

The routes read their bodies themselves (``body.json_body``), so that a Segment batch keeps
its good messages when some are bad and every error names its field; these models exist to
document those bodies exactly, for client generators and for the schemathesis test that holds
the service to its document. Segment's messages are documented by the schema that parses them
(``spec.segment``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from leadscore import _types
from leadscore._types import MAX_THRESHOLD, Verdict, WebhookKind
from leadscore.spec.json_values import ID_TEXT_SCHEMA

Name = Annotated[str, Field(min_length=1)]
Time = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class ErrorBody(BaseModel):
    """Every error: what was wrong and, when a field was, which one."""

    model_config = ConfigDict(extra="allow")
    error: str
    field: str | None = None


class Batch(BaseModel):
    model_config = ConfigDict(extra="allow")
    batch: list[Any] = Field(
        description="Identify, track, page, screen, group and alias messages, each checked "
        "on its own: good ones are kept, bad ones listed in the answer's rejected."
    )


class Rejected(BaseModel):
    index: int
    field: str
    error: str


class Ingested(BaseModel):
    success: bool
    accepted: int
    rejected: list[Rejected]
    scored: bool | None = Field(
        None,
        description="under --answer-after scored: whether the leads' new results were kept "
        "before the answer (false: the wait's bound passed, and rescoring goes on)",
    )


class NewLead(BaseModel):
    lead_id: Annotated[str, WithJsonSchema(ID_TEXT_SCHEMA)]
    attributes: dict[str, Any] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"not": {"const": "lead_id"}}}
    )


class LeadChange(BaseModel):
    attributes: dict[str, Any] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"not": {"const": "lead_id"}}}
    )


class Outcome(BaseModel):
    outcome: _types.Outcome
    value: float | None = Field(None, description="What the deal was worth.")
    at: Time | None = Field(None, description="When (default: now).")


class Feedback(BaseModel):
    feedback: Verdict
    note: str = ""


class NewWebhook(BaseModel):
    url: Annotated[str, Field(pattern=r"^https?://[^/?#\s]+")]
    events: Annotated[list[WebhookKind], Field(min_length=1)]
    model: str | None = Field(None, description="A model's name; default: every model.")
    to: list[str] | None = Field(None, description="Only changes into these stages or tiers.")
    threshold: float | None = Field(
        None,
        ge=-MAX_THRESHOLD,
        le=MAX_THRESHOLD,
        description="Points for threshold_crossed, a 0-100 score for chance_crossed; required "
        "with either, refused without them.",
    )


def json_request(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads ``model`` as its JSON body."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


#: ``openapi_extra`` of the model upload: the model file's YAML text.
YAML_REQUEST = {
    "requestBody": {
        "required": True,
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` documenting the error answers a route can give."""
    return {status: {"model": ErrorBody} for status in statuses}


def with_security(document: dict[str, Any], open_paths: tuple[str, ...]) -> dict[str, Any]:
    """The document with its API keys declared: Segment's basic auth (the key as the user
    name) or a bearer token, on every operation outside ``open_paths``."""
    document.setdefault("components", {})["securitySchemes"] = {
        "writeKey": {"type": "http", "scheme": "basic", "description": "The key as user name."},
        "apiKey": {"type": "http", "scheme": "bearer"},
    }
    for path, operations in document["paths"].items():
        for operation in operations.values():
            operation["security"] = [] if path in open_paths else [{"writeKey": []}, {"apiKey": []}]
    return document
