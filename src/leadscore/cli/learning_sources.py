"""Where ``train``, ``evaluate`` and ``learn-points`` learn from: a CRM table (``--table``),
the project's history point in time, each lead's first days, or the data lake on Spark
(``--lake``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from leadscore.app.project import Project
from leadscore.cli.console import err, parse_as_of
from leadscore.engines.semantics import DAY_US
from leadscore.errors import ConfigError, InputError

if TYPE_CHECKING:  # the learning libraries load when a command needs them
    from leadscore.predict.dataset import Dataset
    from leadscore.settings import Lake
    from leadscore.store.store import Store  # a type only: commands reach it through app/


@dataclass(frozen=True)
class Source:
    data: Dataset
    kinds: list[str]
    from_history: bool
    #: the lake the rows were built from (None: the project's database or a table)
    lake: Lake | None = None


@contextmanager
def project_store(table: Path | None) -> Iterator[tuple[Project | None, Store | None]]:
    """The current folder's project and its store; with --table outside any project,
    neither: a CRM export is data enough to learn from, and no project is needed."""
    try:
        project = Project.find(Path.cwd())
    except ConfigError:
        if table is None:
            raise
        yield None, None
        return
    with project.store() as store:
        yield project, store


def chosen_source(
    project: Project | None,
    store: Store | None,
    lake: bool,
    table: Path | None,
    target: str | None,
    id_column: str | None,
    time_column: str | None,
    drop: list[str] | None,
    missing: list[str] | None,
    horizon_days: int,
    cutoff: str | None,
    snapshots: int,
    step_days: int,
    after_first_touch: int | None,
) -> Source:
    """The rows a learning command's options name: the lake (``--lake``), a table
    (``--table``), each lead's first days (``--after-first-touch``), else the project's
    history at cut-offs."""
    if lake:
        if table is not None or after_first_touch is not None:
            raise InputError(
                "--lake learns from the lake's history: leave out --table and --after-first-touch"
            )
        return lake_source(project, drop, horizon_days, cutoff, snapshots, step_days)
    from leadscore.predict import behaviour, history
    from leadscore.predict.dataset import read_table

    if table is not None:
        if target is None:
            raise InputError("--table needs --target: the column that says who converted")
        data = read_table(
            table, target, id_column=id_column, time_column=time_column, drop=drop, missing=missing
        )
        return Source(data, [], False)
    if target is not None:
        raise InputError("--target goes with --table; the project's labels are its outcomes")
    if store is None:  # _project_store gives no store only with --table
        raise ConfigError("learning from history needs a project; give --table FILE instead")
    end = history.data_end(store)
    if end is None:
        raise InputError(
            "the project has no events or outcomes to learn from: import them with "
            "'leadscore import events FILE' and 'leadscore import outcomes FILE'"
        )
    if after_first_touch is not None:
        with err.status("Reading each lead's first days..."):
            taken = history.after_first_touch(store, after_first_touch, horizon_days)
        err.print(
            f"{len(taken.data.label):,} leads at the end of day {after_first_touch} after their "
            f"first touch; left out: {taken.converted_before:,} that converted by then, "
            f"{taken.too_recent:,} whose {horizon_days}-day horizon runs past the data.",
            markup=False,
        )
        return Source(taken.data.without(drop or []), taken.kinds, True)
    window = history.Window(
        _last_cutoff(end, cutoff, horizon_days), snapshots, step_days, horizon_days
    )
    with err.status("Reading the project's history point in time..."):
        data = history.snapshots(store, window)
    kinds = behaviour.event_kinds(store.events_arrow(), window.last_cutoff)
    return Source(data.without(drop or []), kinds, True)  # --drop holds for history too


def _last_cutoff(end: int, cutoff: str | None, horizon_days: int) -> int:
    """The latest cut-off: --cutoff, else the last midnight a whole horizon before the end
    of the data."""
    if cutoff is None:
        return (end - horizon_days * DAY_US) // DAY_US * DAY_US
    last = parse_as_of(cutoff)
    if len(cutoff.strip()) == 10:  # a date: its start, not parse_as_of's end of day
        last = last + 1 - DAY_US
    return last


def lake_source(
    project: Project | None,
    drop: list[str] | None,
    horizon_days: int,
    cutoff: str | None,
    snapshots: int,
    step_days: int,
) -> Source:
    """``--lake``: the training rows of the project's data lake, built on Spark."""
    from leadscore.app.lake_history import lake_end, lake_snapshots
    from leadscore.predict import history

    lake = None if project is None else project.settings.lake
    if lake is None:
        raise ConfigError("--lake learns from the lake of leadscore.toml: add a [lake] section")
    with err.status("Reading the lake's history point in time on Spark..."):
        end = lake_end(lake)
        if end is None:
            raise InputError("the lake has no events or outcomes to learn from")
        last = _last_cutoff(end, cutoff, horizon_days)
        data, kinds = lake_snapshots(lake, history.Window(last, snapshots, step_days, horizon_days))
    return Source(data.without(drop or []), kinds, True, lake)
