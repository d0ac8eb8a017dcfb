"""Reading a table of leads and turning attributes into features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.errors import InputError
from leadscore.predict.columns import OTHER, AttributeEncoding
from leadscore.predict.dataset import read_table


def _raw(rows: int = 200) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [f"id-{i}" for i in range(rows)],
            "size": [str(i) if i % 10 else None for i in range(rows)],
            "industry": ["software"] * 120 + ["retail"] * 70 + ["mining"] * 10,
            "email": [f"p{i}@gmail.com" if i % 2 else f"p{i}@acme.com" for i in range(rows)],
        },
        dtype=object,
    )


def test_columns_are_read_by_their_values() -> None:
    encoding = AttributeEncoding.learn(_raw())
    kinds = {f.name: (f.kind, f.levels) for f in encoding.features}
    assert "lead_id" not in kinds  # unique per lead: an identifier, no signal
    assert kinds["size"] == ("number", ())
    # mining (10 of 200 rows) is rarer than 20 rows: grouped with any other rare level
    assert kinds["industry"] == ("category", ("software", "retail", OTHER))
    assert kinds["email domain type"][0] == "email_type"


def test_encoding_groups_rare_and_unseen_levels_and_keeps_missing_values_missing() -> None:
    encoding = AttributeEncoding.learn(_raw())
    new = pd.DataFrame(
        {
            "size": ["12", None, "n/a"],
            "industry": ["retail", "mining", "farming"],
            "email": ["x@yahoo.com", "x@mailinator.com", None],
        },
        dtype=object,
    )
    frame = encoding.encode(new)
    assert frame["size"].iloc[0] == 12 and np.isnan(frame["size"].iloc[1:]).all()
    assert frame["industry"].tolist() == ["retail", OTHER, OTHER]
    assert frame["email domain type"].iloc[0] == "free mail"
    assert frame["email domain type"].iloc[1] == "disposable"
    assert pd.isna(frame["email domain type"].iloc[2])


def test_a_column_absent_when_scoring_is_missing_not_an_error() -> None:
    encoding = AttributeEncoding.learn(_raw())
    frame = encoding.encode(pd.DataFrame({"other": [1, 2]}, dtype=object))
    assert np.isnan(frame["size"]).all() and frame["industry"].isna().all()


def test_table_target_values_and_missing_markers(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("id,answer,Converted\na,Select,Yes\nb,Email,no\nc,Select,1\n", encoding="utf-8")
    data = read_table(path, "Converted", id_column="id", missing=["Select"])
    assert data.label.tolist() == [1, 0, 1]
    assert data.ids == ["a", "b", "c"]
    assert pd.isna(data.raw["answer"]).tolist() == [True, False, True]
    assert "Converted" not in data.raw.columns and not data.timed


def test_a_bad_target_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("id,Converted\na,1\nb,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"leads\.csv:3: field 'Converted': 'maybe'"):
        read_table(path, "Converted")


def test_a_missing_column_and_a_bad_time_are_named(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("id,won,created\na,1,2026-01-02\nb,0,yesterday\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column 'Converted'; columns: id, won, created"):
        read_table(path, "Converted")
    with pytest.raises(InputError, match=r"leads\.csv:3: field 'created': 'yesterday'"):
        read_table(path, "won", time_column="created")


def test_a_typed_name_is_judged_for_keyboard_mash_not_taken_as_an_identifier() -> None:
    raw = pd.DataFrame(
        {"first_name": ["Anna", "Jürgen", "asdfgh", "Li", None, "qwerty"]}, dtype=object
    )
    encoding = AttributeEncoding.learn(raw)
    assert [(f.name, f.kind) for f in encoding.features] == [
        ("first_name looks made up", "made_up")
    ]
    frame = encoding.encode(raw)
    assert frame["first_name looks made up"].tolist()[:4] == ["no", "no", "yes", "no"]
    assert pd.isna(frame["first_name looks made up"].iloc[4])
    assert frame["first_name looks made up"].iloc[5] == "yes"


def test_a_semicolon_separated_table_is_read(tmp_path: Path) -> None:
    # as European Excel writes it (and UCI's bank marketing file): ';' and decimal commas
    path = tmp_path / "bank.csv"
    path.write_text('"age";"job";"y"\n30;"admin.";"no"\n41;"blue-collar";"yes"\n')
    data = read_table(path, "y")
    assert data.label.tolist() == [0, 1]
    assert data.raw.columns.tolist() == ["age", "job"]
    assert data.raw["job"].tolist() == ["admin.", "blue-collar"]
