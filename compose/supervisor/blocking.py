"""The ONLY place that runs blocking calls (runtime, netplug, images, files) off the event loop.

One CapacityLimiter bounds the worker threads so a 30-service ``up`` does not start 30 kernel
operations at once on a 2-core machine; a blocking call on the loop thread would stall every
watcher, probe and API request of the supervisor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
from anyio.lowlevel import RunVar

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_LIMIT = 8
_limiter_var: RunVar[anyio.CapacityLimiter] = RunVar("pycompose_blocking_limiter")


def _limiter() -> anyio.CapacityLimiter:
    """One limiter per event loop (tests start several loops in one process)."""
    try:
        return _limiter_var.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(DEFAULT_LIMIT)
        _limiter_var.set(limiter)
        return limiter


async def run_sync(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    def call() -> T:
        return func(*args, **kwargs)

    return await anyio.to_thread.run_sync(call, limiter=_limiter(), abandon_on_cancel=False)
