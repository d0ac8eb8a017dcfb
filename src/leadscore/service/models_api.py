"""The models API (admin keys): upload a point model version (validated with the CLI's
messages), list the versions of point and trained models, activate one. Activating a point
model's version rescores every lead with it; a trained model's serves the predictions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from leadscore._types import now_us
from leadscore.app.model_versions import (
    Kind,
    ModelVersion,
    every_version,
    put_in_use,
    upload,
)
from leadscore.app.predictions import keep_every_prediction
from leadscore.service.auth import require
from leadscore.service.body import read_body
from leadscore.service.errors import ApiError
from leadscore.service.runtime import Runtime, State
from leadscore.service.schemas import YAML_REQUEST, errors

router = APIRouter(
    prefix="/v1/models",
    tags=["models"],
    dependencies=[require("admin")],
    responses=errors(400, 401, 403, 404),
)


def _shown(version: ModelVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "active": version.active,
        "digest": version.digest,
        "kind": version.kind,
    }


@router.get("")
def listed(state: State) -> dict[str, Any]:
    """Every model's versions, point and trained (``kind``), oldest first, and which one is
    in use."""
    return {"versions": [_shown(v) for v in every_version(state.project)]}


@router.post("", status_code=201, openapi_extra=YAML_REQUEST, responses=errors(413))
async def uploaded(request: Request, state: State) -> dict[str, Any]:
    """Upload a model file (the YAML text as the body) as its model's next version; it is not
    used until activated. Problems are listed with their line, as the CLI lists them."""
    raw = await read_body(request)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "the model file must be UTF-8 text") from None
    version = await state.write(upload, state.project, text, "<upload>")
    return _shown(version)


async def switch_version(
    state: Runtime, name: str, version: int, kind: Kind | None = None
) -> list[str]:
    """Put a version in use for the service (its models too) in the write lane; the leads to
    rescore with it (none for a trained model). The models API and the dashboard's model page
    activate through this."""

    def switch() -> list[str]:
        at = now_us()
        chosen, models, lead_ids = put_in_use(state.project, state.store, name, version, at, kind)
        if chosen == "trained":  # every lead's prediction by the new version, kept at once
            keep_every_prediction(state.project, state.store, at)
        state.models = models
        return lead_ids

    lead_ids: list[str] = await state.write(switch)
    return lead_ids


@router.post("/{name}/versions/{version}/activate", responses={202: {"description": "Accepted"}})
async def activated(
    name: str, version: int, state: State, wait: bool = False, kind: Kind | None = None
) -> JSONResponse:
    """Use this version from now on. For a point model, every lead is rescored with it in
    rounds in the background (results, stage changes and webhooks as any rescoring) while
    ingestion goes on: ``202`` with ``leads_to_rescore``; ``leadscore_leads_unscored`` shows
    the progress. ``wait=true`` answers ``200`` once every lead is rescored. A trained model's
    version serves the predictions at once (nothing to rescore). ``kind`` (points or trained)
    says which model is meant when a point model and a trained model share the name."""

    lead_ids = await switch_version(state, name, version, kind)
    answer: dict[str, Any] = {"name": name, "version": version, "active": True}
    if wait:
        await state.scorer.score(lead_ids)
        return JSONResponse({**answer, "leads_rescored": len(lead_ids)})
    state.scorer.add(lead_ids)
    return JSONResponse({**answer, "leads_to_rescore": len(lead_ids)}, status_code=202)
