"""``leadscore backtest``: what a model would have done over the stored history, beside the
model in use, before it goes live."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from leadscore._types import format_as_of
from leadscore.app.backtest import Backtest, run_backtest
from leadscore.app.backtest_metrics import ModelResult, state_words
from leadscore.app.model_versions import Reference, model_by_reference
from leadscore.app.people import label as person_label
from leadscore.app.project import Project
from leadscore.cli.console import err, out, parse_as_of
from leadscore.engines.semantics import DAY_US
from leadscore.errors import ConfigError, InputError
from leadscore.spec.model import ScoringModel

DEFAULT_DAYS = 90

Since = Annotated[
    str | None,
    typer.Option(
        "--from", help=f"First day (2026-01-31). Default: {DEFAULT_DAYS} days before --to."
    ),
]
Until = Annotated[str | None, typer.Option("--to", help="Last day. Default: today.")]
Step = Annotated[str, typer.Option("--step", help="Days between steps: 1d, 7d, 1w.")]
Horizon = Annotated[
    str, typer.Option("--horizon", help="A hand-over counts as converted within this: 90d.")
]
Stage = Annotated[
    str | None, typer.Option("--stage", help="The hand-over stage. Default: each model's second.")
]
ModelChoice = Annotated[
    str | None,
    typer.Option(
        "--model", help="Model in use (NAME), file or NAME@VERSION. Default: the only model in use."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")]


def parse_days(text: str, option: str) -> int:
    """A whole number of days: ``1d``, ``7d``, ``1w``, ``90`` (days)."""
    found = re.fullmatch(r"\s*(\d{1,5})\s*([dw]?)\s*", text.lower())
    if found is None:
        raise InputError(f"{option}: {text!r} is not a number of days or weeks (1d, 7d, 1w)")
    return int(found.group(1)) * (7 if found.group(2) == "w" else 1)


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%} ({part:,} of {whole:,})" if whole else "no data"


def _days(value: float | None) -> str:
    return "none" if value is None else f"{value:.0f} days"


def period(since: str | None, until: str | None) -> tuple[int, int]:
    """``--from`` and ``--to`` as instants: the end of each day; ``--to`` defaults to now and
    ``--from`` to ``DEFAULT_DAYS`` before it."""
    end = parse_as_of(until, "--to")
    start = parse_as_of(since, "--from") if since else end - DEFAULT_DAYS * DAY_US
    return start, end


def chosen_model(project: Project, model: str | None) -> Reference:
    """``--model``: a file, a model in use by name or a kept version; default: the only
    model in use (several in use must be named)."""
    if model is None:
        in_use = project.models()
        if len(in_use) > 1:
            names = ", ".join(m.name for m in in_use)
            raise InputError(f"several models are in use ({names}): say which with --model")
        model = in_use[0].name
    return model_by_reference(project, model)


def step_progress(bar: Progress, what: str) -> Callable[[str, int, int], None]:
    """A progress callback for replays: a bar per model, ``what`` before its name."""
    tasks: dict[str, TaskID] = {}

    def heard(name: str, done: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = bar.add_task(f"{what} {name}", total=total)
        bar.update(tasks[name], completed=done)

    return heard


def backtest(
    candidate: Annotated[
        str,
        typer.Argument(help="The model to try: a model file, or NAME@VERSION of a kept version."),
    ],
    against: Annotated[
        list[str] | None,
        typer.Option(
            "--against",
            help="A model to compare with (file, NAME in use, NAME@VERSION); repeat for more. "
            "Default: the model in use with the candidate's name, if any.",
        ),
    ] = None,
    since: Since = None,
    until: Until = None,
    step: Step = "1d",
    horizon: Horizon = "90d",
    stage: Stage = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="List the leads the models treat differently.")
    ] = False,
    as_json: AsJson = False,
    lake: Annotated[
        bool,
        typer.Option(
            "--lake",
            help="Replay the data lake of leadscore.toml's \\[lake] on Spark instead of the "
            "database (conversions from lake.outcomes; each step sees the leads' current "
            "attributes).",
        ),
    ] = False,
) -> None:
    """Replay models over the stored history, point in time, a step at a time: events up to
    each step, attributes as they were, CRM stages and recycles as recorded, stages moved
    forward (and withdrawn) step by step. Reports hand-overs and SQLs a week, how many
    hand-overs converted (precision), how many conversions were handed over first (recall),
    days to the next stage and to the sale, conversion by tier and the tier mix."""
    project = Project.find(Path.cwd())
    start, end = period(since, until)
    every, horizon_days = parse_days(step, "--step"), parse_days(horizon, "--horizon")
    named = [model_by_reference(project, candidate)]
    if against:
        named += [model_by_reference(project, reference) for reference in against]
    models = [(reference.label, reference.model) for reference in named]
    if not against:
        name = models[0][1].name
        in_use = [m for m in project.models() if m.name == name]
        models += [(f"{name} (in use)", m) for m in in_use]
    if lake:
        found = _lake_backtest(project, models, start, end, every, horizon_days, stage)
        _show(found, diff, as_json)
        return
    with project.store() as store, Progress(console=err, transient=True) as bar:
        found = run_backtest(
            store,
            models,
            start,
            end,
            every_days=every,
            horizon_days=horizon_days,
            stage=stage,
            preparations=project.preparations(),
            progress=step_progress(bar, "Replaying"),
        )
    _show(found, diff, as_json)


def _show(found: Backtest, diff: bool, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(_as_json(found)))
        return
    _print(found, diff)


def _lake_backtest(
    project: Project,
    models: list[tuple[str, ScoringModel]],
    start: int,
    end: int,
    every: int,
    horizon_days: int,
    stage: str | None,
) -> Backtest:
    """``backtest --lake``: the replay of the lake of leadscore.toml, on Spark."""
    from leadscore.app.lake_backtest import lake_backtest

    if project.settings.lake is None:
        raise ConfigError("--lake replays the lake of leadscore.toml: add a [lake] section")
    with err.status("Replaying the lake on Spark..."):
        return lake_backtest(
            project.settings.lake,
            models,
            start,
            end,
            every_days=every,
            horizon_days=horizon_days,
            stage=stage,
        )


def _as_json(found: Backtest) -> dict[str, object]:
    document = asdict(found)
    document["start"], document["end"] = format_as_of(found.start), format_as_of(found.end)
    for result, numbers in zip(found.results, document["results"], strict=True):
        numbers["precision"], numbers["recall"] = result.precision, result.recall
        numbers["label"] = found.labels[found.results.index(result)]
    return document


def _print(found: Backtest, diff: bool) -> None:
    steps = "daily" if found.step_days == 1 else f"every {found.step_days} days"
    out.print(
        f"Backtest from {format_as_of(found.start)} to {format_as_of(found.end)}, {steps}; "
        f"a hand-over counts as converted within {found.horizon_days} days.",
        markup=False,
    )
    table = Table("", *found.labels, title="What each model would have done")
    results = found.results
    weeks = max(len(results[0].weeks), 1)

    def row(name: str, value: Callable[[ModelResult], str]) -> None:
        table.add_row(name, *[value(r) for r in results])

    row("hand-over stage", lambda r: r.handover or "(no stages)")
    row("handed over (leads)", lambda r: f"{r.handed_over:,}")
    row("  a week", lambda r: f"{r.handed_over / weeks:.1f}")
    row("converted after (precision)", lambda r: percent(r.handed_over_converted, r.handed_over))
    row("conversions handed over first (recall)", lambda r: percent(
        r.conversions_handed_over, r.conversions))  # fmt: skip
    row("days to the next stage (median)", lambda r: _days(r.days_to_next))
    row("days to the sale (median)", lambda r: _days(r.days_to_conversion))
    for index, rate in enumerate(results[0].tier_rates):
        table.add_row(f"converted from {rate.tier}", *[_tier(r, index) for r in results])
    out.print(table)
    censored = max(r.censored for r in results)
    if censored:
        out.print(
            f"{censored:,} hand-overs came less than {found.horizon_days} days before the end: "
            "they had less time to convert.",
            markup=False,
        )
    _print_weeks(found)
    _print_tier_mix(found)
    if diff:
        _print_differences(found)
    elif any(found.differences.values()):
        count = sum(len(v) for v in found.differences.values())
        out.print(f"{count:,} leads would be treated differently: --diff lists them.")


def _tier(result: ModelResult, index: int) -> str:
    if index >= len(result.tier_rates):
        return ""
    rate = result.tier_rates[index]
    return percent(rate.converted, rate.leads)


def _print_weeks(found: Backtest) -> None:
    """Entries a week into every stage past the first, per model."""
    table = Table("week", title="Stage entries a week")
    columns = []
    for label, result in zip(found.labels, found.results, strict=True):
        for stage in result.weeks[0].entered if result.weeks else {}:
            table.add_column(f"{stage}\n{label}", justify="right")
            columns.append((result, stage))
    if not columns:
        return
    for index, week in enumerate(found.results[0].weeks):
        table.add_row(week.start, *[str(r.weeks[index].entered[s]) for r, s in columns])
    out.print(table)


def _print_tier_mix(found: Backtest) -> None:
    """Leads per tier at the first, middle and last weekly snapshot, per model."""
    table = Table("snapshot", *found.labels, title="Tier mix (leads per tier)")
    mixes = [result.tier_mix for result in found.results]
    if not mixes[0]:
        return
    picks = sorted({0, len(mixes[0]) // 2, len(mixes[0]) - 1})
    for index in picks:
        cells = [
            " / ".join(f"{tier} {count:,}" for tier, count in mix[index][1].items())
            if index < len(mix)
            else ""
            for mix in mixes
        ]
        table.add_row(mixes[0][index][0], *cells)
    out.print(table)


def _print_differences(found: Backtest) -> None:
    first = found.labels[0]
    for label, listed in found.differences.items():
        if not listed:
            out.print(f"No lead is treated differently by {first} and {label} at the end.")
            continue
        table = Table(
            "lead", "who", f"{first}", f"{label}", "why",
            title=f"Leads treated differently at the end: {first} vs {label}",
        )  # fmt: skip
        for difference in listed:
            table.add_row(
                difference.lead_id,
                person_label(found.people.get(difference.lead_id, {})),
                state_words(difference.first),
                state_words(difference.second),
                difference.reason,
            )
        out.print(table)
