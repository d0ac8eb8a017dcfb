"""Logging of the service: one JSON object per line by default, so that a log shipper can
index the fields of every request (method, path, status, duration) without parsing text."""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LogFormat = Literal["json", "text"]

_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def log_config(log_format: LogFormat = "json", level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig``: the service's own logs and uvicorn's go through the
    same formatter to standard error. uvicorn's access log is left out: the service logs
    every request itself, with its duration."""
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": _FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn repeats its messages with terminal colours; a log shipper wants one
            "reserved_attrs": [*RESERVED_ATTRS, "color_message", "taskName"],
        }
        if log_format == "json"
        else {"format": _FIELDS}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "service",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"service": formatter},
        "handlers": {"service": handler},
        "loggers": {
            name: {"handlers": ["service"], "level": level, "propagate": False}
            for name in ("leadscore", "uvicorn", "uvicorn.error")
        },
    }


class RequestLog:
    """ASGI middleware: one log record per HTTP request, with its method, path, status and
    duration as fields. Plain ASGI rather than ``BaseHTTPMiddleware``, which costs a task and
    a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = logging.getLogger("leadscore.service.requests")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            self.logger.info(
                "%s %s %d %.2f ms",
                scope["method"],
                scope["path"],
                status,
                duration_ms,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
