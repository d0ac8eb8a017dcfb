"""Logging of the service: one JSON object per line by default, so that a log shipper can
index the fields of every request (method, path, status, duration) without parsing text."""

from __future__ import annotations

from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS

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
