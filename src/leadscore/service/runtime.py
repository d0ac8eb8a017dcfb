"""What the service's routes share: the project, its store, the models in use, and the one
lane writes take (``Runtime.write``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from leadscore.app.project import Project
from leadscore.service.options import AnswerAfter
from leadscore.service.scorer import ScoringRounds
from leadscore.service.sender import Sender
from leadscore.spec.model import ScoringModel

if TYPE_CHECKING:  # a type only: the service reaches the store through app/
    from leadscore.store.store import Store

T = TypeVar("T")
R = TypeVar("R")

#: The most a grouped write takes at once (messages, for ingestion): a burst is written in
#: several groups, so no answer waits for an unbounded one.
GROUP_LIMIT = 5_000


#: The default bound on an answer's wait for its leads' results (``Runtime.scored_within``):
#: a round takes ~25 ms at 300 events a second, seconds only when a model is slow.
SCORED_WITHIN_SECONDS = 2.0


@dataclass
class _Group:
    """Parts waiting for the write lane, with their sizes and their requests' futures, and
    the task writing them."""

    waiting: list[tuple[Any, int, asyncio.Future[Any]]] = field(default_factory=list)
    drainer: asyncio.Task[None] | None = None


@dataclass
class Runtime:
    project: Project
    store: Store
    models: list[ScoringModel]
    sender: Sender
    # writes run one at a time, off the event loop: reads and health checks stay answered,
    # and two writes never rescore the same lead side by side
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: "scored": ingestion answers once the leads' new results are kept; "stored": once the
    #: messages are stored (the results follow within the next rescoring round)
    answer_after: AnswerAfter = "scored"
    #: under "scored", the longest an answer waits for the results: past it, the answer says
    #: ``scored: false`` and the rounds go on, so a slow model holds no client (or its
    #: retries) for longer
    scored_within: float = SCORED_WITHIN_SECONDS
    _groups: dict[Callable[..., Any], _Group] = field(default_factory=dict)
    scorer: ScoringRounds = field(init=False)

    def __post_init__(self) -> None:
        self.scorer = ScoringRounds(self)

    async def write(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a write in the write lane, then wake the webhook sender (it may owe some)."""
        result = await self._in_lane(function, *args, **kwargs)
        self.sender.wake()
        return result

    async def _in_lane(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self.writing:
            return await run_in_threadpool(partial(function, *args, **kwargs))

    async def write_together(
        self, function: Callable[[Store, list[Any]], R], part: Any, *, size: int = 1
    ) -> R:
        """Run ``function(store, parts)`` in the write lane on ``part`` and the parts of other
        requests that arrived while the lane was busy (at most ``GROUP_LIMIT`` in size each
        time): group commit. One request alone is written at once; under load the cost of a
        transaction is shared, so the lane keeps up. Returns, once ``part`` is written, what
        ``function`` returned for its group; raises what writing its group raised."""
        group = self._groups.setdefault(function, _Group())
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        group.waiting.append((part, size, done))
        if group.drainer is None:
            group.drainer = asyncio.create_task(self._drain(function, group))
        result: R = await done
        return result

    async def _drain(self, function: Callable[..., Any], group: _Group) -> None:
        try:
            while group.waiting:
                taken, total = 0, 0
                for _, size, _ in group.waiting:
                    if taken and total + size > GROUP_LIMIT:
                        break
                    taken, total = taken + 1, total + size
                batch, group.waiting = group.waiting[:taken], group.waiting[taken:]
                try:
                    # storing owes no webhook (results do): the sender is not woken
                    written = await self._in_lane(function, self.store, [p for p, _, _ in batch])
                except Exception as exc:  # every request of the group hears of it
                    for _, _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for _, _, done in batch:
                        if not done.done():  # a request whose client left is cancelled
                            done.set_result(written)
        finally:
            group.drainer = None

    def model_names(self) -> list[str]:
        return [m.name for m in self.models]


async def runtime(request: Request) -> Runtime:
    """The app's ``Runtime`` (a route dependency)."""
    found: Runtime = request.app.state.runtime
    return found


#: A route parameter of this type receives the app's ``Runtime``.
State = Annotated[Runtime, Depends(runtime)]
