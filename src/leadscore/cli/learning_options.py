"""The options ``train``, ``evaluate`` and ``learn-points`` share: where the rows come from
(a table, or the project's history at cut-offs) and how they are labelled."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

TableOption = Annotated[
    Path | None,
    typer.Option(
        "--table",
        help="Learn from this CSV/Parquet of leads instead of the project (no project needed).",
    ),
]
Target = Annotated[str | None, typer.Option("--target", help="The table's 0/1 target column.")]
IdColumn = Annotated[str | None, typer.Option("--id-column", help="The table's id column.")]
TimeColumn = Annotated[
    str | None,
    typer.Option("--time-column", help="The table's time column: validation takes later rows."),
]
Drop = Annotated[
    list[str] | None, typer.Option("--drop", help="Leave this column out (repeat the option).")
]
Missing = Annotated[
    list[str] | None,
    typer.Option("--missing", help="A value meaning 'not answered', e.g. Select (repeatable)."),
]
Horizon = Annotated[
    int, typer.Option("--horizon-days", min=1, help="Converted within this many days after.")
]
Cutoff = Annotated[
    str | None,
    typer.Option(
        "--cutoff",
        help="The latest cut-off: a date (its start, UTC) or a UTC time. Default: the horizon "
        "before the last event or outcome, so every label is known.",
    ),
]
Snapshots = Annotated[int, typer.Option("--snapshots", min=1, help="How many cut-offs.")]
FirstTouchDays = Annotated[
    int | None,
    typer.Option(
        "--after-first-touch",
        min=0,
        help="Instead of shared cut-offs, take each lead once, at the end of the Nth day after "
        "its first event (0: that day): trials judged on their first days.",
    ),
]
Step = Annotated[int, typer.Option("--step-days", min=1, help="Days between cut-offs.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed: same seed, same model.")]
MinConversions = Annotated[
    int, typer.Option("--min-conversions", min=1, help="Refuse to learn from fewer.")
]
LakeOption = Annotated[
    bool,
    typer.Option(
        "--lake",
        help="Learn from the data lake of leadscore.toml's \\[lake] (lake.outcomes says who "
        "converted), its rows built on Spark.",
    ),
]
