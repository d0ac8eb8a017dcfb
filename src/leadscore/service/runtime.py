"""What the service's routes share: the project, its store, the models in use, and the one
lane writes take (``Runtime.write``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from leadscore.project import Project
from leadscore.service.sender import Sender
from leadscore.spec.model import ScoringModel
from leadscore.store.store import Store

T = TypeVar("T")


@dataclass
class Runtime:
    project: Project
    store: Store
    models: list[ScoringModel]
    sender: Sender
    # writes run one at a time, off the event loop: reads and health checks stay answered,
    # and two writes never rescore the same lead side by side
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def write(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a write in the write lane, then wake the webhook sender (it may owe some)."""
        async with self.writing:
            result = await run_in_threadpool(partial(function, *args, **kwargs))
        self.sender.wake()
        return result

    def model_names(self) -> list[str]:
        return [m.name for m in self.models]


def runtime(request: Request) -> Runtime:
    """The app's ``Runtime`` (a route dependency)."""
    found: Runtime = request.app.state.runtime
    return found


#: A route parameter of this type receives the app's ``Runtime``.
State = Annotated[Runtime, Depends(runtime)]
