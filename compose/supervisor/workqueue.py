"""A keyed, de-duplicating work queue with per-key exponential backoff (client-go's workqueue).

::

    add(key) ──► queue ──get()──► processing ──done(key)──► (dirty? back to queue)
                   ▲                                  │
    add_after(key, d) (timer)    add_rate_limited(key): 5 ms x 2^failures, ≤ 1000 s
                                 forget(key): reset the key's failures

A key is never processed twice at once: adding a key while it is processed marks it dirty and
it is queued again when ``done`` is called. Keys are service names; events only enqueue keys.
"""

from __future__ import annotations

from collections import deque

import anyio
from anyio.abc import TaskGroup

BASE_DELAY = 0.005
MAX_DELAY = 1000.0


class WorkQueue:
    def __init__(self, task_group: TaskGroup) -> None:
        self._tg = task_group
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._processing: set[str] = set()
        self._dirty: set[str] = set()
        self._failures: dict[str, int] = {}
        self._ready = anyio.Event()

    def add(self, key: str) -> None:
        if key in self._processing:
            self._dirty.add(key)
            return
        if key not in self._queued:
            self._queued.add(key)
            self._queue.append(key)
            self._ready.set()

    def add_after(self, key: str, delay: float) -> None:
        if delay <= 0:
            self.add(key)
            return

        async def later() -> None:
            await anyio.sleep(delay)
            self.add(key)

        self._tg.start_soon(later)

    def add_rate_limited(self, key: str) -> float:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay: float = min(BASE_DELAY * 2**failures, MAX_DELAY)
        self.add_after(key, delay)
        return delay

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    async def get(self) -> str:
        while not self._queue:
            self._ready = anyio.Event()
            await self._ready.wait()
        key = self._queue.popleft()
        self._queued.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def __len__(self) -> int:
        return len(self._queue)
