"""What netplug's anyio services (DnsServer, PortProxy) share: their lifetime, a task group
opened by ``async with`` and cancelled on exit, into which the service starts its listeners;
and the replies several of their tasks send on one UDP socket."""

from __future__ import annotations

import logging
from typing import Any, Self

import anyio
import anyio.abc

log = logging.getLogger(__name__)


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


class UdpReplies:
    """Datagrams several tasks send on one UDP socket, one at a time: anyio lets a single task
    write a socket (a concurrent ``sendto`` raises BusyResourceError, which ends the service's
    task group: two answers forwarded for one client's A and AAAA queries come back together).
    A client that went away is no error."""

    def __init__(self, udp: anyio.abc.UDPSocket) -> None:
        self.udp = udp
        self.lock = anyio.Lock()

    async def __call__(self, data: bytes, client: Any) -> None:
        async with self.lock:
            try:
                await self.udp.sendto(data, *client[:2])
            except OSError as exc:
                log.debug("udp reply to %s: %s", client, exc)
