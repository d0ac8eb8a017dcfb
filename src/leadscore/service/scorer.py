"""The service's rescoring of changed leads, in rounds.

Writes mark the leads they change (``store.unscored``) and hand them here. One round takes
every lead handed in since the last: it reads their marks, scores them outside the write lane
(reads only, so writes go on meanwhile; under ``leadscore serve`` in a process of its own, so
requests are answered meanwhile too), then keeps the results in the lane, in one short
transaction with their stage changes, webhook deliveries and the end of the marks seen. Under
load a round takes many leads at once, so rescoring keeps up with ingestion. The process
computing rounds keeps what it read of each lead from one round to the next
(``app.preparations``): a round reads only what changed since the last and the colleagues it has
not seen yet.

A write to a lead during a round replaces its mark; the round clears only the marks it saw,
so the lead stays marked and the next round takes it. A crash leaves marks that the restart
rescores (``app._catch_up``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from leadscore._types import now_us
from leadscore.app.predictions import keep_lead_predictions, lead_predictions
from leadscore.app.preparations import Preparations
from leadscore.app.project import open_store
from leadscore.app.scoring import keep_results, score_marked
from leadscore.errors import LeadscoreError
from leadscore.service import metrics
from leadscore.spec.model import ScoringModel

if TYPE_CHECKING:
    import pyarrow as pa

    from leadscore.service.runtime import Runtime
    from leadscore.store.store import Store

logger = logging.getLogger(__name__)

#: Rounds a lead is tried in when other rescorings keep overtaking it (``keep_results``
#: leaves a model alone when its kept results are newer than the round's instant).
MAX_ROUNDS = 5

#: Most leads one round takes: a bulk rescoring (a model activated, a scheduled run, a
#: file imported by another process) goes in rounds of this size, and the writes waited for
#: join the next round first, so ingestion goes on meanwhile.
ROUND_LEADS = 2_000

#: The pause after a failed round before the leads nobody waits for are tried again.
RETRY_SECONDS = 1.0

#: When nobody waits for a round (``--answer-after stored``), rounds start at least this far
#: apart: each keeps its results in the write lane, which single events then queue behind.
#: At 300 single events a second, 0.05 s against 0.02 s halved their median latency on both
#: databases and kept results within 100 ms (SQLite) and 250 ms (PostgreSQL) at p99
#: (BENCHMARKS.md).
ROUND_GAP = 0.05


@dataclass
class _Part:
    """Leads handed in together, the future of whoever waits for them (None: nobody), when
    they were handed in, and how many rounds have tried them."""

    lead_ids: set[str]
    done: asyncio.Future[None] | None
    since: float = field(default_factory=time.perf_counter)
    rounds: int = 0


class ScoringRounds:
    """Rescoring rounds for one service (see the module's docstring)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.pool: ProcessPoolExecutor | None = None
        #: the leads' prepared parts between rounds computed in this process (``app.preparations``)
        self.preparations = Preparations()
        #: freeze what the first round imports lazily (pyarrow pulls pandas in): it lives on
        self.freeze_after_first_round = False
        self.waiting: list[_Part] = []
        self.in_round: set[str] = set()
        self.rounder: asyncio.Task[None] | None = None
        self._last_start = 0.0
        self.settled = asyncio.Event()
        self.settled.set()
        # read when scraped (a service runs one app: the newest scorer is the one)
        metrics.LEADS_UNSCORED.set_function(self.pending)

    def add(self, lead_ids: Iterable[str]) -> None:
        """Rescore these leads soon; nobody waits for it."""
        for chunk in _chunks(lead_ids):
            self._hand_in(_Part(chunk, None))

    async def score(self, lead_ids: Iterable[str], within: float | None = None) -> bool:
        """Rescore these leads and return once their results are kept (True), or once
        ``within`` seconds have passed (False: the rounds go on without a waiter, so a slow
        model delays nobody's answer past the bound); raises what a round raised."""
        loop = asyncio.get_running_loop()
        parts = [_Part(chunk, loop.create_future()) for chunk in _chunks(lead_ids)]
        for part in parts:
            self._hand_in(part)
        waits = {part.done for part in parts if part.done is not None}
        if not waits:
            return True
        _, late = await asyncio.wait(waits, timeout=within)
        for part in parts:
            if part.done in late:  # nobody waits any more: rounds treat it so (retries too)
                part.done = None
        for future in waits - late:
            failure = future.exception()
            if failure is not None:
                raise failure
        return not late

    async def start_process(self) -> None:
        """Compute rounds in a process of their own from now on, so that the service's
        process answers requests while a round computes (scoring is Python work that would
        hold the interpreter lock). The process opens its own connection to the database."""
        self.pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_open_store,
            initargs=(self.runtime.store.url,),
        )
        # imports and the connection happen now, not in the first round
        await asyncio.get_running_loop().run_in_executor(self.pool, _ready)

    def stop_process(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def idle(self) -> None:
        """Wait until every lead handed in is rescored (or its round failed)."""
        await self.settled.wait()

    def pending(self) -> int:
        """Leads handed in and not yet kept."""
        return len(self.pending_leads())

    def pending_leads(self) -> set[str]:
        """The leads handed in and not yet kept."""
        return self.in_round.union(*(part.lead_ids for part in self.waiting))

    def _next_parts(self) -> list[_Part]:
        """The parts of the next round, taken from ``waiting``: those someone waits for
        first, then the others, up to ``ROUND_LEADS`` leads (at least one part)."""
        ordered = sorted(self.waiting, key=lambda part: part.done is None)  # stable
        taken: list[_Part] = []
        size = 0
        for part in ordered:
            if taken and size + len(part.lead_ids) > ROUND_LEADS:
                break
            taken.append(part)
            size += len(part.lead_ids)
        chosen = {id(part) for part in taken}
        self.waiting = [part for part in self.waiting if id(part) not in chosen]
        return taken

    def _hand_in(self, part: _Part) -> None:
        if not part.lead_ids:
            if part.done is not None:
                part.done.set_result(None)
            return
        self.waiting.append(part)
        self.settled.clear()
        if self.rounder is None:
            self.rounder = asyncio.create_task(self._rounds())

    async def _rounds(self) -> None:
        try:
            while self.waiting:
                if not any(part.done for part in self.waiting):  # nobody waits: let a few
                    await asyncio.sleep(self._last_start + ROUND_GAP - time.perf_counter())
                self._last_start = time.perf_counter()  # more writes join this round
                parts = self._next_parts()
                self.in_round = set().union(*(part.lead_ids for part in parts))
                try:
                    kept = await self._round(self.in_round)
                except Exception as exc:  # the marks stay: a later rescoring takes them
                    logger.exception("rescoring the leads of %d writes failed", len(parts))
                    for part in parts:
                        part.rounds += 1
                        if part.done is not None:
                            if not part.done.done():
                                part.done.set_exception(exc)
                        elif part.rounds < MAX_ROUNDS:  # nobody waits: try again shortly
                            self.waiting.append(part)
                    self.in_round = set()
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                finished = time.perf_counter()
                for part in parts:
                    part.rounds += 1
                    if not kept and part.rounds < MAX_ROUNDS:
                        self.waiting.append(part)  # overtaken: again, as of a later instant
                        continue
                    if not kept:  # the marks stay: the next scheduled rescoring takes them
                        logger.warning("gave up rescoring %d leads: overtaken %d times",
                                       len(part.lead_ids), part.rounds)  # fmt: skip
                    metrics.SCORING_LAG_SECONDS.observe(finished - part.since)
                    if part.done is not None and not part.done.done():
                        part.done.set_result(None)
                self.in_round = set()  # those tried again are waiting by now
                if self.freeze_after_first_round:  # see app.create_app's owns_process
                    gc.freeze()
                    self.freeze_after_first_round = False
        finally:
            self.rounder = None
            self.in_round = set()
            if not self.waiting:
                self.settled.set()

    async def _round(self, lead_ids: set[str]) -> bool:
        """Score and keep ``lead_ids``; False when a newer rescoring overtook this one."""
        started = time.perf_counter()
        state = self.runtime
        models = state.models
        at = now_us()
        touched = sorted(lead_ids)
        if self.pool is None:
            marks, results = await run_in_threadpool(
                score_marked, state.store, models, touched, at, self.preparations
            )
        else:
            loop = asyncio.get_running_loop()
            try:
                marks, results = await loop.run_in_executor(
                    self.pool, _score_in_process, models, touched, at
                )
            except BrokenProcessPool:  # the process died (killed, out of memory): a new one
                self.stop_process()
                await self.start_process()
                raise
        _, skipped = await state.write(
            keep_results, state.store, models, results, at, lead_ids=touched, marks=marks
        )
        await self._keep_predictions(at, touched)
        metrics.SCORING_SECONDS.observe(time.perf_counter() - started)
        return not skipped

    async def _keep_predictions(self, at: int, touched: list[str]) -> None:
        """The round's leads' predictions by the trained models in use, computed outside the
        write lane and kept in it (``app.predictions``). Nothing without a trained model. The
        point results are kept already: a model that fails to predict is logged, not fatal."""
        state = self.runtime
        try:
            found = await run_in_threadpool(
                lead_predictions, state.project, state.store, at, touched
            )
            if found:
                await state.write(keep_lead_predictions, state.store, at, touched, found)
        except LeadscoreError as exc:
            logger.warning("predictions of a rescoring round not kept: %s", exc)


def _chunks(lead_ids: Iterable[str]) -> list[set[str]]:
    """``lead_ids`` in sets of at most ``ROUND_LEADS``."""
    ordered = sorted(set(lead_ids))
    return [set(ordered[i : i + ROUND_LEADS]) for i in range(0, len(ordered), ROUND_LEADS)]


_process_store: Store | None = None
_process_preparations = Preparations()
_process_frozen = False


def _open_store(url: str) -> None:
    """The scoring process's own store (the initializer of ``ScoringRounds.pool``), and a watch on
    the service: killed outright (SIGKILL, out of memory), it cannot stop the pool, and the
    process would stay behind holding database connections."""
    global _process_store
    _process_store = open_store(url)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])  # returns when the service's process ends
    os._exit(0)


def _ready() -> None:
    """Nothing: the first call waits for the process to have started."""


def _score_in_process(
    models: list[ScoringModel], lead_ids: list[str], at: int
) -> tuple[dict[str, int], pa.Table]:
    global _process_frozen
    assert _process_store is not None, "the scoring process has no store"
    found = score_marked(_process_store, models, lead_ids, at, _process_preparations)
    if not _process_frozen:  # what the first round imported lives on: out of the collector's
        gc.freeze()  # sight, a full collection scans only what rounds make (~1 ms, not ~50)
        _process_frozen = True
    return found
