"""``leadscore score``, ``explain`` and ``recycle``: results for every lead, reasons for one,
and sales sending a lead back."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.table import Table

from leadscore._types import MILLI, format_as_of
from leadscore.app.model_versions import trained_model
from leadscore.app.people import label, people
from leadscore.app.project import Project
from leadscore.app.recycle import recycle_lead
from leadscore.app.scoring import rescore_all, score_all, with_priority
from leadscore.cli.console import err, out, parse_as_of
from leadscore.cli.models import keep_predictions, rescore_every_lead
from leadscore.engines.results import points
from leadscore.engines.semantics import ranking
from leadscore.errors import InputError

if TYPE_CHECKING:
    from leadscore.predict.registry import Loaded
    from leadscore.settings import Lake

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Score as of this instant: 2026-01-31 (end of that UTC day) or "
        "2026-01-31T12:00:00Z. Default: now.",
    ),
]
ModelOption = Annotated[str | None, typer.Option("--model", help="Only this model (by name).")]

OUTPUT_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet")


def _writable_output(output: str | None) -> str | None:
    """Check --output before any work is done: a command that scores for minutes (and keeps
    what it found) must not then fail on a path that could never be written."""
    if output is None or output == "-":
        return output
    path = Path(output)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise typer.BadParameter(
            f"unknown file type {path.suffix!r}; use .csv, .jsonl, .parquet or - for stdout"
        )
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise typer.BadParameter(f"{output} is a folder; give a file name")
    if not folder.is_dir():
        raise typer.BadParameter(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise typer.BadParameter(f"{output} cannot be written (permission denied)")
    return output


Output = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Write every result to .csv, .jsonl, .parquet, or - for CSV on stdout.",
        callback=_writable_output,
    ),
]


def display_table(results: pa.Table) -> pa.Table:
    """Milli-points -> points, for files and screens."""
    for column in ("fit", "engagement", "score"):
        index = results.schema.get_field_index(column)
        values = pc.divide(pc.cast(results[column], pa.float64()), float(MILLI))
        results = results.set_column(index, column, values)
    return results


def write_results(results: pa.Table, output: str) -> None:
    """Write CSV, JSONL or Parquet by the file's suffix; ``-`` writes CSV to stdout."""
    write_table(display_table(results), output)


def write_table(table: pa.Table, output: str) -> None:
    """Write any table as CSV, JSONL or Parquet by the file's suffix; ``-``: CSV on stdout."""
    if output == "-":
        import pyarrow.csv as pacsv

        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink)
        typer.echo(sink.getvalue().to_pybytes().decode(), nl=False)
        return
    try:
        _write_file(table, Path(output))
    except OSError as exc:
        raise InputError(f"--output {output}: cannot be written: {exc.strerror}") from None


def _write_file(table: pa.Table, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    elif suffix in {".jsonl", ".ndjson"}:
        with path.open("w", encoding="utf-8") as handle:
            for row in table.to_pylist():
                handle.write(json.dumps(row) + "\n")
    else:
        raise InputError(
            f"--output {path}: unknown file type {suffix!r}; use .csv, .jsonl, "
            ".parquet or - for CSV on stdout"
        )


def score(
    as_of: AsOf = None,
    output: Output = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Only this model (by name). A trained model's name gives its predictions "
            "(probability, score, reasons) instead.",
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="How many top leads to show per model.")] = 10,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Record nothing: neither the stage changes nor the leads' results."
        ),
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="The engine that scores: duckdb or spark (default: engine in leadscore.toml). "
            "With spark and a \\[lake] in leadscore.toml, the lake's leads and events are scored "
            "and the results written to the lake instead of the database.",
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="A lake run only: write each result's explanation (every rule's points and "
            "every stage check, as JSON) in an explanation column. For one lead in the "
            "database, use leadscore explain.",
        ),
    ] = False,
) -> None:
    """Score every lead under every model (fit, engagement, score, tier, grade, stage).

    Stages start from each lead's recorded stage and only move forward on their own (or back
    by a model's withdraw rule); the changes found are recorded at the --as-of instant, unless
    --dry-run or the history already goes past that instant.
    """
    moment = parse_as_of(as_of)
    project = Project.find(Path.cwd())
    chosen = engine or project.settings.engine
    if chosen == "spark" and project.settings.lake is not None:
        if output is not None or dry_run:
            raise typer.BadParameter(
                "a lake run writes its results to lake.results (leadscore.toml); "
                "--output and --dry-run are for the database"
            )
        _score_lake(project, moment, model, explain=explain, top=top)
        return
    if explain:
        raise typer.BadParameter(
            "--explain is for a lake run (score --engine spark with a lake in "
            "leadscore.toml); for a lead in the database, leadscore explain LEAD_ID gives "
            "every rule and stage check"
        )
    loaded = None if model is None else trained_model(project, model)
    if loaded is not None:
        _predict(project, loaded, moment, output, top)
        return
    models = project.models(model)
    with project.store() as store:
        with err.status(f"Scoring as of {format_as_of(moment)}..."):
            if dry_run:
                results = score_all(
                    store,
                    models,
                    moment,
                    preparations=project.preparations(),
                    engine=chosen,
                )
            else:
                results, recorded, skipped = rescore_all(
                    store,
                    models,
                    moment,
                    preparations=project.preparations(),
                    engine=chosen,
                )
        if not dry_run:
            keep_predictions(project, store, moment)
            if recorded:
                plural = "s" if recorded != 1 else ""
                err.print(f"Recorded {recorded:,} stage change{plural}.", markup=False)
            for name in skipped:
                err.print(
                    f"Stage changes under model {name!r} were not recorded: its history "
                    f"already goes past {format_as_of(moment)}.",
                    markup=False,
                )
    results = with_priority(results, models)
    if output is not None:
        write_results(results, output)
        if output != "-":
            err.print(f"Wrote {results.num_rows:,} results to {output}.", markup=False)
        return
    show_summary(results, moment, top, project)


def _score_lake(
    project: Project, moment: int, model: str | None, *, explain: bool, top: int
) -> None:
    """``score --engine spark`` over the lake of leadscore.toml: every lead scored on Spark,
    the results written as the run's partition of lake.results (a trained model's
    predictions: of lake.predictions)."""
    from leadscore.app.lake import score_lake

    lake = project.settings.lake
    assert lake is not None
    loaded = None if model is None else trained_model(project, model)
    if loaded is not None:
        if explain:
            raise typer.BadParameter(
                "--explain is for point models; a trained model's predictions carry their "
                "reasons in the reasons column"
            )
        _predict_lake(lake, loaded, moment, top)
        return
    models = project.models(model)
    with err.status(f"Scoring the lake on Spark as of {format_as_of(moment)}..."):
        run = score_lake(lake, models, moment, explain=explain)
    for name, rows in run.rows.items():
        since = run.continued.get(name)
        stages = (
            f"stages continued from its run as of {format_as_of(since)}"
            if since is not None
            else "the first run there: every lead starts at its first stage"
        )
        out.print(f"{name}: {rows:,} leads scored ({stages})", markup=False)
    changes = f"{run.transitions:,} stage change{'s' if run.transitions != 1 else ''}"
    out.print(f"Wrote the results and {changes} to {run.results}, as_of={run.as_of}.", markup=False)


def _predict_lake(lake: Lake, loaded: Loaded, moment: int, top: int) -> None:
    """``score --engine spark --model NAME`` for a trained model and a lake."""
    from leadscore.app.lake_predictions import predict_lake

    with err.status(f"Predicting the lake on Spark as of {format_as_of(moment)}..."):
        run = predict_lake(lake, loaded, moment, top=top)
    out.print(
        f"[bold]{loaded.name}[/bold] v{loaded.version}: {run.rows:,} leads as of "
        f"{format_as_of(moment)}"
    )
    _show_predictions(run.best)
    out.print(f"Wrote the predictions to {run.place}, as_of={run.as_of}.", markup=False)


def _predict(project: Project, loaded: Loaded, moment: int, output: str | None, top: int) -> None:
    """``score --model NAME`` for a trained model: probability, score and reasons per lead.
    Predictions are not kept in the database: they are recomputed from the history."""
    from leadscore.predict.scoring import predict

    name = loaded.name
    with project.store() as store, err.status(f"Predicting as of {format_as_of(moment)}..."):
        results = predict(store, loaded, moment)
    if output is not None:
        write_table(results, output)
        if output != "-":
            err.print(f"Wrote {results.num_rows:,} predictions to {output}.", markup=False)
        return
    out.print(
        f"[bold]{name}[/bold] v{loaded.version}: {results.num_rows:,} leads as of "
        f"{format_as_of(moment)}"
    )
    _show_predictions(results.slice(0, top))


def _show_predictions(best: pa.Table) -> None:
    """The best leads' predictions (``PREDICTION_SCHEMA`` rows, best first) as a table."""
    table = Table("lead", "score", "probability", "reasons")
    for row in best.to_pylist():
        reasons = "; ".join(f"{r['text']} ({r['points']:+g})" for r in json.loads(row["reasons"]))
        table.add_row(row["lead_id"], f"{row['score']:g}", f"{row['probability']:.3f}", reasons)
    out.print(table)


def show_summary(results: pa.Table, as_of: int, top: int, project: Project) -> str | None:
    """Per model: tiers, stages and the top leads, with who they are, best first
    (``semantics.ranking``: ties at the clip broken by the unclipped total). Returns the
    first model's best lead (None: no leads)."""
    rows = results.to_pylist()
    best = None
    if not rows:
        err.print(
            "No leads to score: import some with 'leadscore import leads FILE' or "
            "'leadscore import events FILE' (identify calls create leads).",
            markup=False,
        )
        return None
    for model in sorted({row["model"] for row in rows}):
        mine = sorted(
            (r for r in rows if r["model"] == model),
            key=lambda r: (*(-v for v in ranking(r["score"], r["fit"], r["engagement"])),
                           r["lead_id"]),
        )  # fmt: skip
        best = best or mine[0]["lead_id"]
        tiers = Counter(r["tier"] for r in mine)
        stages = Counter(r["stage"] for r in mine)
        out.print(f"[bold]{model}[/bold]: {len(mine):,} leads as of {format_as_of(as_of)}")
        out.print("  tiers:  " + ", ".join(f"{k} {v:,}" for k, v in tiers.most_common()))
        out.print("  stages: " + ", ".join(f"{k} {v:,}" for k, v in stages.most_common()))
        with project.store() as store:
            who = people(store, [r["lead_id"] for r in mine[:top]])
        shown = ["lead", "who", "company", "score", "fit", "engagement", "tier", "grade"]
        with_matrix = "priority" in results.column_names
        table = Table(*shown, *(["priority"] if with_matrix else []), "stage")
        for r in mine[:top]:
            person = who.get(r["lead_id"], {})
            matrix = [r["priority"] or ""] if with_matrix else []
            table.add_row(
                r["lead_id"],
                label(person),
                str(person.get("company", "")),
                f"{points(r['score']):g}",
                f"{points(r['fit']):g}",
                f"{points(r['engagement']):g}",
                r["tier"] or "",
                r["grade"] or "",
                *matrix,
                r["stage"] or "",
            )
        out.print(table)
    return best


def recycle(
    lead_id: Annotated[str, typer.Argument(help="The lead sales sends back.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why, in a few words (kept in the history).")
    ] = "recycled by sales",
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="When: 2026-01-31 (end of that UTC day) or a UTC time. Default: now."
        ),
    ] = None,
    model: ModelOption = None,
) -> None:
    """Send a lead back (sales disqualified it): it returns to the model's recycle stage and,
    by default, its engagement restarts from zero; its events stay stored."""
    moment = parse_as_of(at)
    project = Project.find(Path.cwd())
    with project.store() as store:
        for scoring_model in project.models(model):
            done = recycle_lead(store, scoring_model, lead_id, moment, reason)
            err.print(
                f"{lead_id} under {done.model}: {done.from_stage} -> {done.to_stage} "
                f"(recycled at {format_as_of(done.at)}).",
                markup=False,
            )


def rescore(model: ModelOption = None) -> None:
    """Score every lead now and keep the results and stage changes (for cron: time alone moves
    decayed scores and "inactive for N days" stages). Prints one line; `leadscore serve` does
    the same on a schedule."""
    moment = parse_as_of(None)
    project = Project.find(Path.cwd())
    models = project.models(model)
    with project.store() as store:
        rescore_every_lead(project, store, models, moment)
        keep_predictions(project, store, moment)
