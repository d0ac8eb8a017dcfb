"""The models API (admin keys): upload a model version (validated with the CLI's messages),
list versions, activate one. Activation rescores every lead with the new model."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from leadscore._types import now_us
from leadscore.app.model_versions import ModelVersion, activate, upload, versions
from leadscore.app.scoring import rescore_all
from leadscore.service.auth import require
from leadscore.service.body import MAX_BODY_BYTES
from leadscore.service.errors import ApiError
from leadscore.service.runtime import State
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
    }


@router.get("")
def listed(state: State) -> dict[str, Any]:
    """Every model's versions, oldest first, and which one is in use."""
    return {"versions": [_shown(v) for v in versions(state.project)]}


@router.post("", status_code=201, openapi_extra=YAML_REQUEST, responses=errors(413))
async def uploaded(request: Request, state: State) -> dict[str, Any]:
    """Upload a model file (the YAML text as the body) as its model's next version; it is not
    used until activated. Problems are listed with their line, as the CLI lists them."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "the model file must be UTF-8 text") from None
    version = await state.write(upload, state.project, text, "<upload>")
    return _shown(version)


@router.post("/{name}/versions/{version}/activate")
async def activated(name: str, version: int, state: State) -> dict[str, Any]:
    """Use this version from now on and rescore every lead with it (results, stage changes
    and webhooks as any rescoring)."""

    def switch() -> dict[str, Any]:
        models = activate(state.project, name, version)
        state.models = models
        results, recorded, _ = rescore_all(
            state.store,
            models,
            now_us(),
            cache=state.project.prepared_cache,
            engine=state.project.settings.engine,
        )
        return {"leads_rescored": results.num_rows, "stage_changes": recorded}

    done = await state.write(switch)
    return {"name": name, "version": version, "active": True, **done}
