"""A ``Prepared`` kept on disk between runs: one folder per model, replaced atomically.

The folder holds ``meta.json`` (the format, the caller's fingerprint and mark, and the name
of the current generation) and that generation's two files: the leads as Arrow IPC (ids,
account ids, one verdict column per lead predicate in ``lead_predicates`` order) and the
event arrays as an uncompressed ``.npz``. A writer writes a new generation, then swaps
``meta.json`` in one rename, so a reader never sees half a write.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather

from leadscore.engines.plan import Plan
from leadscore.engines.prepared import Prepared, Series, lead_predicates

FORMAT = 1
META = "meta.json"


def save(prepared: Prepared, folder: Path, fingerprint: str, mark: dict[str, Any]) -> None:
    """Write ``prepared`` as the folder's current generation and drop older ones."""
    folder.mkdir(parents=True, exist_ok=True)
    generation = uuid.uuid4().hex
    predicates = lead_predicates(prepared.plan)
    leads = pa.table(
        {
            "lead_id": prepared.lead_ids,
            "account_id": prepared.account_ids,
            **{f"v{i}": prepared.verdicts[id(p)] for i, p in enumerate(predicates)},
        }
    )
    feather.write_feather(leads, folder / f"{generation}.leads.arrow", compression="uncompressed")
    arrays = {"activity_lead": prepared.activity.lead, "activity_ts": prepared.activity.ts}
    for j, series in enumerate(prepared.matched):
        arrays[f"m{j}_lead"], arrays[f"m{j}_ts"] = series.lead, series.ts
    with open(folder / f"{generation}.events.npz", "wb") as out:
        np.savez(out, **arrays)  # type: ignore[arg-type]
    meta = {"format": FORMAT, "fingerprint": fingerprint, "mark": mark, "generation": generation}
    temporary = folder / f"{generation}.meta.json"
    temporary.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(temporary, folder / META)
    for old in folder.iterdir():
        if old.name != META and not old.name.startswith(generation):
            old.unlink(missing_ok=True)


def remark(folder: Path, mark: dict[str, Any]) -> None:
    """Give the folder's current generation a later mark (nothing changed since it was
    kept), in one rename like ``save``; a folder with no generation is left alone."""
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    meta["mark"] = mark
    temporary = folder / f"{uuid.uuid4().hex}.meta.json"
    temporary.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(temporary, folder / META)


def load(folder: Path, plan: Plan, fingerprint: str) -> tuple[Prepared, dict[str, Any]] | None:
    """The kept ``Prepared`` and its mark, or None when there is none for ``fingerprint``."""
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("fingerprint") != fingerprint:
            return None
        generation = meta["generation"]
        leads = feather.read_table(folder / f"{generation}.leads.arrow")
        with np.load(folder / f"{generation}.events.npz") as arrays:
            activity = Series(arrays["activity_lead"], arrays["activity_ts"])
            matched = tuple(
                Series(arrays[f"m{j}_lead"], arrays[f"m{j}_ts"]) for j in range(len(plan.matchers))
            )
    except (OSError, ValueError, KeyError):
        return None  # missing, or written by another version: prepare anew
    predicates = lead_predicates(plan)
    verdicts = {id(p): leads[f"v{i}"].to_numpy().astype(np.bool_) for i, p in enumerate(predicates)}
    prepared = Prepared(
        plan=plan,
        lead_ids=leads["lead_id"].combine_chunks(),
        account_ids=leads["account_id"].combine_chunks(),
        verdicts=verdicts,
        matched=matched,
        activity=activity,
    )
    return prepared, dict(meta["mark"])
