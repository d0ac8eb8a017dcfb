"""What ``leadscore validate`` says beyond one file's own validity: two files giving their
models one name, and rules counting events that no stored event has (a typo such as
``Email Openned`` scores nothing, without a word, until someone looks)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from leadscore.errors import ConfigError
from leadscore.spec import conditions as c
from leadscore.spec.model import ScoringModel


@dataclass(frozen=True, slots=True)
class UnseenEvent:
    """A rule or condition of a model that counts a track event no stored event has."""

    model: str
    where: str  # "engagement rule 'email open'", "stage MQL", "account count 'readers'"
    event: str
    suggestion: str | None  # the stored event name closest to it, if one is close

    def message(self) -> str:
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        return (
            f"model {self.model!r}: {self.where} counts {self.event!r} events, and no stored "
            f"event has that name{hint}"
        )


def check_names(files: Sequence[tuple[Path, ScoringModel]]) -> None:
    """ConfigError naming both files when two give their models one name."""
    seen: dict[str, Path] = {}
    for file, model in files:
        if model.name in seen:
            raise ConfigError(
                f"{seen[model.name]} and {file} both name their model {model.name!r}; "
                "each model needs a name of its own"
            )
        seen[model.name] = file


def counted_events(model: ScoringModel) -> list[tuple[str, str]]:
    """(where, track event name) for every rule, condition and account count naming one."""
    found = [(f"engagement rule {r.name!r}", r.event) for r in model.engagement if r.event]
    found += [(f"account count {a.name!r}", a.event) for a in model.accounts.counts if a.event]
    for stage in model.stages:
        trees = [stage.when, stage.withdraw.when if stage.withdraw else None]
        for tree in (t for t in trees if t is not None):
            found += [
                (f"stage {stage.name}", node.event)
                for node in c.walk(tree)
                if isinstance(node, c.EventCount | c.DaysSinceEvent) and node.event
            ]
    return list(dict.fromkeys(found))


def unseen_events(models: Iterable[ScoringModel], stored: set[str]) -> list[UnseenEvent]:
    """Events the models count that none of the ``stored`` event names is (none when
    nothing is stored yet: a new project has seen no event at all)."""
    if not stored:
        return []
    names = sorted(stored)
    return [
        UnseenEvent(
            model.name, where, event, next(iter(difflib.get_close_matches(event, names, 1)), None)
        )
        for model in models
        for where, event in counted_events(model)
        if event not in stored
    ]
