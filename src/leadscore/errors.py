"""The errors a user can cause, so callers can catch at the level they care about.

::

    LeadscoreError                 base; every error a user can cause is one of these
    ├── ModelFileError             invalid model file; .issues lists every problem found
    ├── InputError                 an input is unusable as a whole (unknown format, no id column)
    │   └── MessageError           one Segment message cannot be taken (spec/segment.py)
    ├── NotFoundError              a lead, a model or a project that does not exist
    ├── ConflictError              a change that contradicts what is recorded (history order)
    ├── ConfigError                bad settings or a project folder that is not one
    └── ApiError                   an HTTP request answered with its status (service/errors.py)

Messages say where, then what, then what was expected, then what was received.
"""

from __future__ import annotations

from dataclasses import dataclass


class LeadscoreError(Exception):
    """Base class of every error a user can cause; the CLI prints it without a traceback."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a model file, located as precisely as the YAML allows."""

    file: str
    line: int | None
    col: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        field = f"{self.path}: " if self.path else ""
        return f"{where}: {field}{self.message}"


class ModelFileError(LeadscoreError):
    """A model file is invalid; every problem found is listed, not just the first."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        lines = "\n".join(str(issue) for issue in issues)
        count = len(issues)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the model file:\n{lines}")


class InputError(LeadscoreError):
    """An input file or value is unusable as a whole."""


class NotFoundError(LeadscoreError):
    """Something named by the user does not exist."""


class ConflictError(LeadscoreError):
    """A change contradicts what is already recorded, e.g. a recycle before a later stage change."""


class ConfigError(LeadscoreError):
    """Settings or the project folder are not usable."""
