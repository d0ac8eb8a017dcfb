"""``/docs``: the OpenAPI document as a page people read, rendered on the server with no
script and nothing from the network (FastAPI's own page loads Swagger UI from a CDN, blank on
a machine offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
METHODS = ("get", "post", "put", "patch", "delete")


def _body(operation: dict[str, Any]) -> str:
    content = operation.get("requestBody", {}).get("content", {})
    kinds = []
    for media, spec in content.items():
        ref = spec.get("schema", {}).get("$ref", "")
        kinds.append(f"{media}" + (f" ({ref.rsplit('/', 1)[-1]})" if ref else ""))
    return ", ".join(kinds)


def operations(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The document's operations grouped by their first tag, in the document's order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["service"])[0]
            groups.setdefault(tag, []).append(
                {
                    "id": operation.get("operationId", f"{method}-{path}"),
                    "method": method,
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": operation.get("parameters", []),
                    "body": _body(operation),
                    "responses": ", ".join(
                        f"{code} {spec.get('description', '')}".strip()
                        for code, spec in operation.get("responses", {}).items()
                    ),
                }
            )
    return list(groups.items())


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> Response:
    document = request.app.openapi()
    info = document.get("info", {})
    context = {
        "title": info.get("title", "leadscore"),
        "summary": info.get("summary", ""),
        "groups": operations(document),
    }
    return templates.TemplateResponse(request, "api_docs.html", context)
