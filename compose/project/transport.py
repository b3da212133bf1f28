"""How a request reaches the project's supervisor: over its socket when one runs, else to a
``SupervisorService`` made for it in this process. Both return the same typed replies, so a
caller cannot tell (and no command decides) which one served it.

    SocketTransport   api.call(request.to_json()) → decode(request.reply, reply)   (None: none runs)
    LocalTransport    project lock → anyio.run(local_service(...).handle(request))
                      (while another process holds the lock, a supervisor that starts serving
                      meanwhile gets the request: a detached `up` locks before it listens)

Both report the request's steps as they happen (``report``: the caller's progress).

The local one imports the supervisor (anyio, the machine) only when it is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from compose.supervisor import api, protocol as p

if TYPE_CHECKING:
    from compose.model import Stack
    from compose.state import ProjectLock
    from compose.supervisor.options import Output

T = TypeVar("T")
LOCK_TIMEOUT = 30.0


class SocketTransport:
    def __init__(self, project: str) -> None:
        self.project = project

    def call(
        self, request: p.Request, timeout: float | None = None, out: Output | None = None
    ) -> p.Reply | None:
        """The running supervisor's reply; None when none listens. Raises its errors. ``out``
        sees what the request reports while it runs (its steps, an attached `up`'s logs)."""

        def on_line(doc: p.Json) -> None:
            if out is not None:
                p.replay(doc, out)

        doc = api.call(self.project, request.to_json(), timeout or request.deadline(), on_line)
        return None if doc is None else p.decode(request.reply, doc)

    def listening(self) -> bool:
        """A supervisor answers (a hung one fails in 5 s, not in a request's long deadline)."""
        return self.call(p.Status(), timeout=5) is not None


class LocalTransport:
    """One request served in this process, under the project lock (``stack``: the file, or
    None to act from the records alone; loaded only for requests that need it)."""

    def __init__(self, project: str, stack: Callable[[], Stack | None], out: Output) -> None:
        self.project = project
        self.stack = stack
        self.out = out

    def call(self, request: p.Request) -> p.Reply:
        import anyio

        stack = self.stack() if request.needs_stack else None
        lock = self._lock_or_reply(request)
        if isinstance(lock, p.Reply):
            return lock
        with lock:
            return unwrap(lambda: anyio.run(self._serve, request, stack))

    def _lock_or_reply(self, request: p.Request) -> ProjectLock | p.Reply:
        """The project lock, or the reply of the supervisor that holds it once it serves
        (waits up to the request's deadline, at least LOCK_TIMEOUT: a `down` during a start
        goes to the starting supervisor, which cancels the start for it)."""
        import time

        from compose.errors import ProjectLockedError
        from compose.state import ProjectLock
        from compose.state.lock import holder

        lock, socket = ProjectLock(self.project), SocketTransport(self.project)
        deadline = time.monotonic() + max(LOCK_TIMEOUT, request.deadline() or 0.0)
        while not lock.try_acquire():
            reply = socket.call(request, out=self.out)
            if reply is not None:
                return reply
            if time.monotonic() >= deadline:
                raise ProjectLockedError(
                    f'project "{self.project}": {holder(self.project)} is acting on it',
                    hint="wait until it is done, then try again",
                )
            time.sleep(0.05)
        return lock

    async def _serve(self, request: p.Request, stack: Stack | None) -> p.Reply:
        from compose.supervisor.service import local_service

        async with local_service(self.project, stack, self.out) as service:
            return await service.handle(request, self.out)


def unwrap(call: Callable[[], T]) -> T:
    """anyio task groups wrap errors in ExceptionGroup; callers want ours, one level up."""
    try:
        return call()
    except BaseExceptionGroup as group:
        raise _first_leaf(group) from group


def _first_leaf(exc: BaseException) -> BaseException:
    from compose.errors import PycomposeError

    if isinstance(exc, BaseExceptionGroup):
        leaves = [_first_leaf(e) for e in exc.exceptions]
        return next(
            (e for e in leaves if isinstance(e, PycomposeError | KeyboardInterrupt)), leaves[0]
        )
    return exc
