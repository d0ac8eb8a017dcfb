"""Request bodies: JSON objects, gzip accepted (Segment's clients compress), size limited."""

from __future__ import annotations

import zlib
from typing import Any

from fastapi import Request

from leadscore.service.errors import ApiError
from leadscore.spec import json_values

#: The largest request body taken (Segment's own limit for a batch is 500 KB), before and
#: after inflating.
MAX_BODY_BYTES = 1_000_000

_TOO_LARGE = f"the body is larger than {MAX_BODY_BYTES:,} bytes"


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; 400 (413 when too large) saying what is wrong. What may
    hurt later (huge numbers, unpaired surrogates, deep nesting) is left to each message's
    own check (``json_values.problem``)."""
    return _json_object(await read_body(request))


async def checked_json_body(request: Request) -> tuple[dict[str, Any], bool]:
    """``json_body``, and whether its text spells no NUL or surrogate (``text_is_clean``:
    the messages' own checks may then leave their strings alone)."""
    data = await read_body(request)
    return _json_object(data), json_values.text_is_clean(data)


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        body = json_values.loads(data)
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the body is not UTF-8 (byte {exc.start}: {exc.reason})") from None
    except ValueError as exc:
        raise ApiError(400, f"the body is not JSON that can be read: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


async def read_body(request: Request) -> bytes:
    """The request's body, inflated when gzipped; read as it arrives and refused (413) as
    soon as it passes the limit, whether or not it declared its length."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, _TOO_LARGE)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, _TOO_LARGE)
    data = bytes(raw)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        return _gunzip(data)
    return data


def _gunzip(data: bytes) -> bytes:
    """Every gzip member of ``data`` inflated (concatenated members are one stream, as
    ``gzip -c a b`` writes), stopping one byte past the limit: no gzip bomb fills memory."""
    out = bytearray()
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(wbits=31)
            out += inflater.decompress(rest, MAX_BODY_BYTES + 1 - len(out))
            if len(out) > MAX_BODY_BYTES or inflater.unconsumed_tail:
                raise ApiError(413, _TOO_LARGE + " once inflated")
            if not inflater.eof:
                raise ApiError(400, "the body is not valid gzip (it ends inside a member)")
            rest = inflater.unused_data
    except zlib.error:
        raise ApiError(400, "the body is not valid gzip") from None
    return bytes(out)


def choice(body: dict[str, Any], field: str, choices: tuple[str, ...]) -> str:
    """``body[field]``, which must be one of ``choices``."""
    value = body.get(field)
    if value not in choices:
        raise ApiError(400, f"{field}: must be one of {', '.join(choices)}", field)
    return str(value)


class _TooLarge(Exception):
    pass


class BoundedForms:
    """ASGI middleware: the dashboard's forms (every POST outside ``/v1/``, read by FastAPI's
    form parser, which keeps what it reads) are refused with 413 past ``MAX_BODY_BYTES``,
    declared or streamed, before they can fill memory. The API reads its bodies with
    ``read_body``, which has the same bound."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            await _refuse(send)
            return
        seen = 0
        over = started = False

        async def bounded() -> Any:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > MAX_BODY_BYTES:
                    over = True  # the form parser turns this into its own 400: answer 413
                    raise _TooLarge
            return message

        async def watched(message: Any) -> None:
            nonlocal started
            if over:  # what the app says of a body cut short is replaced by the 413
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _refuse(send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, watched)
        except _TooLarge:
            if not started:
                await _refuse(send)


async def _refuse(send: Any) -> None:
    body = f"{_TOO_LARGE}.".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
