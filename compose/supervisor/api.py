"""A supervisor's API (the detached one and a foreground `up` serve the same): one JSON request
line, then the request's progress as ``{"step": ...}`` lines while it runs, then one JSON reply
line, on a unix socket at ``<run>/projects/<project>/supervisor.sock``.

    client ──{"op": "down", ...}──────────► server ──handler(request, emit)──┐
           ◄─{"step": {...}} … (emit) ─────────────────────────────────────────┤
           ◄─{"ok": true, ...}  (an error: {"ok": false, "error", "hint"}) ────┘

The wire only: the requests and replies are ``protocol``'s, the handler is the
``SupervisorService``. The client is synchronous (the CLI has no event loop); the server runs
in the supervisor.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from compose import localsock
from compose.errors import OperationError, UserError
from compose.state.layout import socket_path

Emit = Callable[[dict[str, Any]], None]
Handler = Callable[[dict[str, Any], Emit], Awaitable[dict[str, Any]]]
MAX_LINE = 1 << 20


async def serve(path: Path, handler: Handler) -> None:
    """Serve until cancelled. Each connection carries exactly one request."""
    localsock.prepare_dir(path.parent)
    path.unlink(missing_ok=True)
    import anyio  # here: clients (`call`) stay free of it

    listener = await anyio.create_unix_listener(path)
    localsock.make_private(path)
    try:
        async with listener:
            await listener.serve(lambda stream: _one(stream, handler))
    finally:
        path.unlink(missing_ok=True)


async def _one(stream: Any, handler: Handler) -> None:
    import anyio
    from anyio.abc import SocketAttribute

    async with stream:
        if not localsock.peer_allowed(stream.extra(SocketAttribute.raw_socket)):
            return  # another local user: no answer at all
        data = b""
        while not data.endswith(b"\n") and len(data) < MAX_LINE:
            try:
                data += await stream.receive()
            except anyio.EndOfStream:
                break
        send, receive = anyio.create_memory_object_stream[dict[str, Any]](max_buffer_size=1024)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_pump, receive, stream)
            try:
                reply = await handler(json.loads(data or b"{}"), _emitter(send))
            except Exception as exc:
                reply = {"ok": False, "error": str(exc)}
                if isinstance(exc, UserError):  # the client raises it again as the user's mistake
                    reply.update(user_error=True, hint=exc.hint)
            finally:
                send.close()  # the pump sends what is left, then ends
        with contextlib.suppress(Exception):
            await stream.send((json.dumps(reply) + "\n").encode())


def _emitter(send: Any) -> Emit:
    """A sync ``emit`` (the supervisor reports steps from plain callbacks): queued, never
    blocking; a client that reads nothing only loses progress lines."""

    def emit(doc: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            send.send_nowait(doc)

    return emit


async def _pump(receive: Any, stream: Any) -> None:
    async with receive:
        async for doc in receive:
            with contextlib.suppress(Exception):
                await stream.send((json.dumps(doc) + "\n").encode())


def call(
    project: str,
    request: dict[str, Any],
    timeout: float = 60.0,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any] | None:
    """Send one request; None when no supervisor listens. Raises on an error reply.
    ``on_step``: each progress line before the reply (its ``step`` object)."""
    path = socket_path(project)
    if not path.exists():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return None
        sock.sendall((json.dumps(request) + "\n").encode())
        reply = _reply(_lines(sock), on_step)
    if not reply.get("ok", False) and reply.get("user_error"):
        raise UserError(reply.get("error", "failed"), hint=reply.get("hint"))
    if not reply.get("ok", False):
        raise OperationError(f'project "{project}" supervisor: {reply.get("error", "failed")}')
    return reply


def _lines(sock: socket.socket) -> Iterator[bytes]:
    buffer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            if buffer:
                yield buffer
            return
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        yield from (line for line in complete if line)


def _reply(
    lines: Iterator[bytes], on_step: Callable[[dict[str, Any]], None] | None
) -> dict[str, Any]:
    for line in lines:
        doc: dict[str, Any] = json.loads(line)
        if "step" in doc and "ok" not in doc:
            if on_step is not None:
                on_step(doc["step"])
            continue
        return doc
    return {"ok": False, "error": "it ended without a reply"}
