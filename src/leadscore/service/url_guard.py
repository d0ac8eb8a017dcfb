"""Refuse URLs holding control characters before any route sees them.

``%00`` decodes to NUL, which PostgreSQL text cannot hold: an id taken from such a path, or a
filter from such a query, would fail in the database instead of being answered. No id, name
or filter the service knows contains a control character, so the whole request is refused
with one clear ``400``, whatever the route.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RefuseControlCharacters:
    """ASGI middleware: ``400`` for a path or query string holding a control character."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = unquote(scope.get("query_string", b"").decode("latin-1"), errors="replace")
            for where, text in (("path", str(scope.get("path", ""))), ("query", query)):
                found = _CONTROL.search(text)
                if found is not None:
                    await _refuse(send, where, found.group(), found.start())
                    return
        await self.app(scope, receive, send)


async def _refuse(send: Send, where: str, character: str, position: int) -> None:
    body = json.dumps(
        {
            "error": f"the URL's {where} holds a control character ({character!r}) at "
            f"character {position + 1}; no id, name or filter here has one",
            "field": where,
        }
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
