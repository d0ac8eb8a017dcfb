"""Where every scoring run gets its models' prepared batches: one object a process keeps.

The batch engine scores in two phases (``engines.prepared``): preparing reads the leads and
their events and judges every event filter and attribute condition; scoring turns that into
results as of an instant. Preparing is most of the work, and most of it is the same from one
run to the next, so it is kept, in the two ways a run can need, behind this one object:

* **every lead**, one batch per model, in a folder between runs of a command
  (``PreparedBatches``): ``leadscore score``, backtests and reports prepare only the leads
  changed since the last run;
* **some leads**, one part per lead and model, in memory between the service's rounds
  (``KeptLeads``): a round reads only the leads written since the last one and the account
  colleagues it has not seen yet.

Both are exact or stand aside: each class says when it trusts what it kept. A process makes
one ``Preparations`` (the project's, ``Project.preparations()``, or the service's) and hands
it to every scoring call; ``Preparations()`` keeps nothing on disk, and a call given none
prepares everything anew.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from leadscore.app.kept_leads import KeptLeads
from leadscore.app.prepared_batches import PreparedBatches
from leadscore.engines.plan import Plan
from leadscore.engines.prepared import Prepared
from leadscore.engines.registry import PreparingEngine
from leadscore.store.store import Store


class Preparations:
    """The prepared batches a process keeps between its scoring runs (see the module)."""

    def __init__(self, folder: Path | None = None) -> None:
        #: where every lead's batch per model is kept between runs (None: not kept)
        self.folder = folder
        self._leads = KeptLeads()

    def every_lead(self, store: Store, engine: PreparingEngine, as_of: int) -> PreparedBatches:
        """Every lead's batch, one model at a time (``PreparedBatches.prepared``), for a run
        as of ``as_of``: from the folder and brought up to date when it is exact there."""
        return PreparedBatches(store, engine, as_of, self.folder)

    def some_leads(
        self, store: Store, plans: Mapping[str, Plan], lead_ids: Sequence[str]
    ) -> tuple[dict[str, Prepared], list[str]]:
        """Each plan's batch of ``lead_ids`` and, when a plan reads account facts, their
        colleagues, as ``store`` holds them now; and those leads, in id order
        (``KeptLeads.prepared``)."""
        return self._leads.prepared(store, plans, lead_ids)
