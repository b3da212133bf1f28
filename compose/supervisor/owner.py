"""The reaper: a supervisor whose project has an owner (a test session) watches that process
through a pidfd and brings the project down when it dies (pytest killed -9, a CI job
cancelled with SIGTERM: no finalizer of the owner runs then, this does).

    watch(owner) ─► labels in the project record (``ls``) ─► pidfd readable ─► Down(-v) ─► exit

``watch(None)`` disowns the project (``--pycompose-keep``): it stays up until `down`.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import anyio

from compose.planner.desired import DownOptions
from compose.procfs import is_alive
from compose.state import owner as labels
from compose.supervisor import protocol as p
from compose.supervisor.options import Owner

if TYPE_CHECKING:
    from compose.supervisor.service import SupervisorService

log = logging.getLogger(__name__)


class OwnerWatch:
    def __init__(self, service: SupervisorService) -> None:
        self.service = service
        self.owner: Owner | None = None
        self._scope: anyio.CancelScope | None = None

    def watch(self, owner: Owner | None, kept: str = "") -> None:
        """From now on the project belongs to ``owner`` (None: to nobody; ``kept`` says why,
        and a sweep leaves it alone)."""
        if self._scope is not None:
            self._scope.cancel()
            self._scope = None
        self.owner = owner
        self._label(owner, kept)
        if owner is not None:
            self._scope = anyio.CancelScope()
            self.service.sup.spawn(self._reap_when_gone, owner, self._scope)

    def _label(self, owner: Owner | None, kept: str) -> None:
        found = {
            labels.PID: "",
            labels.START: "",
            labels.NAME: "",
            labels.KEPT: kept,
        }
        if owner is not None:
            found.update(owner.labels)
            found.update(labels.owner_labels(owner.pid, owner.start_time))
        self.service.driver.networks.label(found)

    async def _reap_when_gone(self, owner: Owner, scope: anyio.CancelScope) -> None:
        with scope:
            await wait_gone(owner)
            log.warning("owner pid %d is gone: bringing the project down", owner.pid)
            options = DownOptions(remove_volumes=owner.remove_volumes, remove_orphans=True)
            with anyio.CancelScope(shield=True):
                await self.service.handle(p.Down(options, owner.grace))


async def wait_gone(owner: Owner) -> None:
    """Until the owner process has exited (at once when it is gone or its pid was reused)."""
    try:
        fd = os.pidfd_open(owner.pid)
    except OSError:  # gone already
        return
    try:
        if not is_alive(owner.pid, owner.start_time):  # the pid is another process's now
            return
        await anyio.wait_readable(fd)
    finally:
        os.close(fd)
