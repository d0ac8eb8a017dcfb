"""The rows a predictive model learns from: raw attributes, behaviour features, a label, and the
order in time that validation must respect.

Two sources make one: a plain table of leads with a target column (a CRM export), or the
project's own history taken point in time (``history.snapshots``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadscore.errors import InputError
from leadscore.spec.predicates import canonical_text, is_missing
from leadscore.store.input_files import file_separator

_TRUE = {"1", "true", "yes", "y", "t", "converted", "won"}
_FALSE = {"0", "false", "no", "n", "f", "lost", "not converted"}


@dataclass(frozen=True)
class Dataset:
    """Learning rows. ``raw`` holds attribute values as given; ``behaviour`` numeric features
    already computed (from events); ``order`` sorts rows in time (equal values: same instant)."""

    ids: list[str]
    raw: pd.DataFrame
    behaviour: pd.DataFrame
    label: np.ndarray
    order: np.ndarray
    #: True when ``order`` is real time; a table without a time column has none.
    timed: bool
    source: str
    window: dict[str, Any] = field(default_factory=dict)
    #: Whether each row's lead ever converts, at any time the data knows (project history): a
    #: column equal to it was written after the sale, though the horizon's label may differ.
    eventual: np.ndarray | None = None
    #: The first sales verdict given within the horizon after each row's cut-off (None where
    #: none was): what sales found when they called, for ``feedback.agreement``.
    heard: np.ndarray | None = None

    @property
    def conversions(self) -> int:
        return int(self.label.sum())

    def fingerprint(self) -> str:
        """A digest of the rows and labels: tells whether two models saw the same data."""
        digest = hashlib.sha256()
        for frame in (self.raw, self.behaviour):
            if len(frame.columns):
                hashed = pd.util.hash_pandas_object(frame.astype(str), index=False)
                digest.update(hashed.to_numpy().tobytes())
            digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(self.label.astype(np.int8).tobytes())
        return digest.hexdigest()

    def without(self, columns: Sequence[str]) -> Dataset:
        """The rows without these attribute or behaviour columns (``--drop``, whatever the
        source); InputError naming the columns there are when one of them is not there."""
        known = [*map(str, self.raw.columns), *map(str, self.behaviour.columns)]
        unknown = [column for column in columns if column not in known]
        if unknown:
            raise InputError(
                f"{self.source}: --drop {unknown[0]!r}: no such column; columns: "
                + ", ".join(known)
            )
        return replace(
            self,
            raw=self.raw.drop(columns=[c for c in columns if c in self.raw.columns]),
            behaviour=self.behaviour.drop(columns=[c for c in columns if c in self.behaviour]),
        )

    def subset(self, rows: np.ndarray) -> Dataset:
        return Dataset(
            ids=[self.ids[i] for i in rows],
            raw=self.raw.iloc[rows].reset_index(drop=True),
            behaviour=self.behaviour.iloc[rows].reset_index(drop=True),
            label=self.label[rows],
            order=self.order[rows],
            timed=self.timed,
            source=self.source,
            window=self.window,
            eventual=None if self.eventual is None else self.eventual[rows],
            heard=None if self.heard is None else self.heard[rows],
        )


def read_table(
    path: Path,
    target: str,
    *,
    id_column: str | None = None,
    time_column: str | None = None,
    drop: list[str] | None = None,
    missing: list[str] | None = None,
) -> Dataset:
    """A CSV or Parquet file of leads, one per row, with a 0/1 (or yes/no, true/false) target.

    ``missing`` lists values that mean "not answered" (X Education's ``Select``)."""
    frame = _read(path)
    where = f"{path}"
    for column in (target, id_column, time_column, *(drop or [])):
        if column is not None and column not in frame.columns:
            raise InputError(
                f"{where}: no column {column!r}; columns: {', '.join(map(str, frame.columns))}"
            )
    first_line = 2 if path.suffix.lower() == ".csv" else 1
    label = np.array(
        [_label(v, where, first_line + i, target) for i, v in enumerate(frame[target].tolist())],
        dtype=np.int8,
    )
    ids = (
        [canonical_text(v) for v in frame[id_column].tolist()]
        if id_column
        else [str(i + first_line) for i in range(len(frame))]
    )
    order = np.arange(len(frame), dtype=np.int64)
    timed = False
    if time_column:
        times = pd.to_datetime(frame[time_column], errors="coerce", utc=True)
        bad = np.flatnonzero(times.isna().to_numpy())
        if len(bad):
            line = first_line + int(bad[0])
            raise InputError(
                f"{where}:{line}: field {time_column!r}: {frame[time_column].iloc[bad[0]]!r} "
                "is not a date or time"
            )
        order = times.astype("int64").to_numpy() // 1000
        timed = True
    skip = {c for c in (target, id_column, time_column, *(drop or [])) if c is not None}
    raw = frame[[c for c in frame.columns if c not in skip]].astype(object)
    nulls = set(missing or ())
    if nulls:
        raw = raw.map(lambda v: None if isinstance(v, str) and v.strip() in nulls else v)
    return Dataset(
        ids=ids,
        raw=raw.reset_index(drop=True),
        behaviour=pd.DataFrame(index=range(len(frame))),
        label=label,
        order=order,
        timed=timed,
        source=str(path),
        window={"rows": len(frame), "target": target},
    )


def _read(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(
                path,
                sep=file_separator(path),  # European Excel (and UCI's bank data) write ';'
                dtype=object,
                keep_default_na=False,
                na_values=[""],
            )
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot be read: {exc}") from None
    raise InputError(f"{path}: give a .csv or .parquet file (got {suffix or 'no suffix'!r})")


def _label(value: object, where: str, line: int, target: str) -> int:
    if not is_missing(value) and not (isinstance(value, float) and np.isnan(value)):
        text = canonical_text(value, ignore_case=True)
        if text in _TRUE:
            return 1
        if text in _FALSE:
            return 0
    raise InputError(
        f"{where}:{line}: field {target!r}: {value!r} is not a target value "
        "(use 1/0, true/false or yes/no)"
    )
