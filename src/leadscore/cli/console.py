"""The CLI's two consoles: results on stdout, messages and progress on stderr."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, time, timedelta

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from leadscore.errors import InputError

#: Columns for results written to a file or a pipe: Rich would cut tables to 80 there
#: (``trees (defa…``), where people read them as much as on a terminal.
PIPE_WIDTH = 160


def _width() -> int | None:
    """None on a terminal or with COLUMNS set (Rich measures), else ``PIPE_WIDTH``."""
    return None if sys.stdout.isatty() or "COLUMNS" in os.environ else PIPE_WIDTH


out = Console(highlight=False, width=_width())
err = Console(stderr=True, highlight=False, soft_wrap=True)


def progress() -> Progress:
    """A progress bar on stderr (hidden when stderr is not a terminal)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def parse_as_of(text: str | None, option: str = "--as-of") -> int:
    """``--as-of`` (or another instant option): a date means the end of that UTC day; a time
    needs a UTC offset."""
    if text is None:
        return int(datetime.now(UTC).timestamp() * 1_000_000)
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        # pydantic's message models: imported only when a time is given (start-up stays short)
        from leadscore.spec.segment import MessageError, parse_timestamp

        try:
            return parse_timestamp(text, option)
        except MessageError as exc:
            raise InputError(f"{option}: {exc.reason}") from None
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    return int(end.timestamp()) * 1_000_000 - 1
