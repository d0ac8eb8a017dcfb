"""Request bodies: JSON objects, gzip accepted (Segment's clients compress), size limited."""

from __future__ import annotations

import json
import zlib
from typing import Any

from fastapi import Request

from leadscore.service.errors import ApiError

#: The largest request body taken (Segment's own limit for a batch is 500 KB).
MAX_BODY_BYTES = 1_000_000


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; 400 (413 when too large) saying what is wrong."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES:,} bytes")
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:  # at most one byte past the limit is inflated: no gzip bomb fills the memory
            inflater = zlib.decompressobj(wbits=31)
            raw = inflater.decompress(raw, MAX_BODY_BYTES + 1)
        except zlib.error:
            raise ApiError(400, "the body is not valid gzip") from None
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES:,} bytes")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def choice(body: dict[str, Any], field: str, choices: tuple[str, ...]) -> str:
    """``body[field]``, which must be one of ``choices``."""
    value = body.get(field)
    if value not in choices:
        raise ApiError(400, f"{field}: must be one of {', '.join(choices)}", field)
    return str(value)
