"""The lifetime shared by netplug's anyio services (DnsServer, PortProxy): a task group opened
by ``async with`` and cancelled on exit, into which the service starts its listeners."""

from __future__ import annotations

from typing import Any, Self

import anyio
import anyio.abc


class TaskGroupService:
    _tg: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> Self:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        return await self._tg.__aexit__(*exc)
