"""``leadscore thresholds``: the hand-over threshold that fits sales' capacity, and a
candidate model file with only those numbers changed."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from leadscore.app.project import Project
from leadscore.app.thresholds import Advice, Trial, advise, write_candidate
from leadscore.cli.console import err, out
from leadscore.cli.lab import (
    AsJson,
    Horizon,
    ModelChoice,
    Since,
    Stage,
    Step,
    Until,
    chosen_model,
    parse_days,
    percent,
    period,
)
from leadscore.errors import InputError


def parse_capacity(text: str) -> float:
    """Leads a week: ``50/week``, ``50/w``, ``10/day`` (x 7), ``200/month`` (x 7 / 30.44)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(week|w|day|d|month|m))?\s*", text.lower())
    if found is None:
        raise InputError(f"--capacity: {text!r} is not a number of leads a week (50/week)")
    value = float(found.group(1))
    unit = (found.group(2) or "week")[0]
    return value * {"w": 1.0, "d": 7.0, "m": 7 / 30.44}[unit]


def thresholds(
    capacity: Annotated[
        str,
        typer.Option("--capacity", help="Leads sales can take: 50/week, 10/day, 200/month."),
    ],
    model: ModelChoice = None,
    since: Since = None,
    until: Until = None,
    step: Step = "1d",
    horizon: Horizon = "90d",
    stage: Stage = None,
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Write a candidate model file with the proposal."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Propose the hand-over stage's score threshold that would have handed sales about
    --capacity leads a week over the period while catching the most later conversions, and
    tier cut-offs to go with it (the top tier from the threshold, the next from where twice
    the capacity would cut). Prints the neighbouring thresholds; --write keeps the model
    file's comments and layout and changes only those numbers."""
    project = Project.find(Path.cwd())
    leads_a_week = parse_capacity(capacity)
    start, end = period(since, until)
    reference = chosen_model(project, model)
    if write is not None and write.exists() and write.resolve() == reference.path.resolve():
        raise InputError(f"--write {write}: that is the model's own file; write a candidate")
    with project.store() as store, Progress(console=err, transient=True) as bar:
        task = bar.add_task("Trying thresholds", total=None)
        advice = advise(
            store,
            reference.model,
            leads_a_week,
            start,
            end,
            every_days=parse_days(step, "--step"),
            horizon_days=parse_days(horizon, "--horizon"),
            stage=stage,
            progress=lambda done, _: bar.update(task, completed=done),
        )
    if write is not None:
        text = reference.path.read_text(encoding="utf-8")
        try:
            write.write_text(write_candidate(text, reference.model, advice), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--write {write}: cannot be written: {exc.strerror}") from None
    if as_json:
        out.print_json(json.dumps(_advice_json(advice)))
    else:
        _print_advice(advice, reference.label)
    if write is not None:
        err.print(
            f"Wrote {write}: {reference.path.name} with only those numbers changed. Try: "
            f"leadscore backtest {write} --against {advice.model} --diff",
            markup=False,
        )


def _trial_json(trial: Trial) -> dict[str, object]:
    return {**asdict(trial), "precision": trial.precision, "recall": trial.recall}


def _advice_json(advice: Advice) -> dict[str, object]:
    document = asdict(advice)
    for key in ("current", "proposed"):
        document[key] = _trial_json(getattr(advice, key))
    document["neighbours"] = [_trial_json(t) for t in advice.neighbours]
    return document


def _print_advice(advice: Advice, label: str) -> None:
    sign = ">=" if advice.bound == "gte" else ">"
    out.print(
        f"{advice.stage} of {label}: score {sign} {advice.current.threshold:g} now; sales can "
        f"take {advice.capacity:g} leads a week ({advice.weeks:.1f} weeks replayed).",
        markup=False,
    )
    table = Table("threshold", "a week", "handed over", "converted after (precision)",
                  "conversions handed over (recall)", title="Thresholds tried")  # fmt: skip
    shown = {t.threshold: t for t in [advice.current, advice.proposed, *advice.neighbours]}
    for value in sorted(shown):
        trial = shown[value]
        mark = " (proposed)" if value == advice.proposed.threshold else ""
        mark += " (now)" if value == advice.current.threshold else ""
        table.add_row(
            f"{sign} {value:g}{mark}",
            f"{trial.per_week:.1f}",
            f"{trial.handed_over:,}",
            percent(trial.converted, trial.handed_over),
            percent(trial.conversions_handed_over, trial.conversions),
        )
    out.print(table)
    proposed = advice.proposed
    if advice.too_few:
        out.print(
            f"No threshold hands over {advice.capacity:g} a week: at most "
            f"{proposed.per_week:.1f} a week pass {advice.stage}'s other conditions, at any "
            f"threshold up to {proposed.threshold:g}. Sales could take more leads than this "
            "model finds.",
            markup=False,
        )
    elif advice.too_many:
        out.print(
            f"No threshold keeps to {advice.capacity:g} a week: above every score, "
            f"{proposed.per_week:.1f} a week still enter {advice.stage} (recorded by the CRM).",
            markup=False,
        )
    warm = f", the next from {advice.warm:g} (twice the capacity)" if advice.warm else ""
    out.print(
        f"Proposed: {advice.stage} at score {sign} {proposed.threshold:g}, "
        f"{proposed.per_week:.1f} a week; the top tier from {proposed.threshold:g}{warm}.",
        markup=False,
    )
