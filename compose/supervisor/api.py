"""A supervisor's API (the detached one and a foreground `up` serve the same): one JSON request
line, then the request's progress as ``{"step": ...}`` lines while it runs, then one JSON reply
line, on a unix socket at ``<run>/projects/<project>/supervisor.sock``.

    client ──{"op": "down", ...}──────────► server ──handler(request, channel)──┐
           ◄─{"step": {...}} … (channel.emit) ────────────────────────────────────┤
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

Handler = Callable[[dict[str, Any], "Channel"], Awaitable[dict[str, Any]]]
MAX_LINE = 1 << 20
BUFFER = 1 << 16  # lines queued for a slow client (an attached `up` reads replica logs)


async def serve(path: Path, handler: Handler) -> None:
    """Serve until cancelled. Each connection carries exactly one request."""
    localsock.prepare_dir(path.parent)
    path.unlink(missing_ok=True)
    import anyio  # here: clients (`call`) stay free of it

    with localsock.addressable(path) as address:
        listener = await anyio.create_unix_listener(address)
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
        send, receive = anyio.create_memory_object_stream[dict[str, Any]](max_buffer_size=BUFFER)
        channel = Channel(send)
        async with anyio.create_task_group() as tg:
            pumped = anyio.Event()
            tg.start_soon(_pump, receive, stream, pumped)
            tg.start_soon(_watch_close, stream, channel)
            try:
                reply = await handler(json.loads(data or b"{}"), channel)
            except Exception as exc:
                reply = {"ok": False, "error": str(exc)}
                if isinstance(exc, UserError):  # the client raises it again as the user's mistake
                    reply.update(user_error=True, hint=exc.hint)
            finally:
                send.close()  # the pump sends what is left, then ends
            await pumped.wait()
            tg.cancel_scope.cancel()
        with contextlib.suppress(Exception):
            await stream.send((json.dumps(reply) + "\n").encode())


class Channel:
    """One request's way back to its client while it runs: lines before the reply (``emit``:
    sync, queued, never blocking) and whether the client has gone (``closed``)."""

    def __init__(self, send: Any) -> None:
        import anyio

        self._send = send
        self.closed = anyio.Event()

    def emit(self, doc: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):  # a client that reads nothing loses these lines
            self._send.send_nowait(doc)


async def _pump(receive: Any, stream: Any, pumped: Any) -> None:
    try:
        async with receive:
            async for doc in receive:
                with contextlib.suppress(Exception):
                    await stream.send((json.dumps(doc) + "\n").encode())
    finally:
        pumped.set()


async def _watch_close(stream: Any, channel: Channel) -> None:
    """A client sends nothing after its request: EOF means it has gone (Ctrl-C)."""
    with contextlib.suppress(Exception):
        while await stream.receive():
            pass
    channel.closed.set()


def call(
    project: str,
    request: dict[str, Any],
    timeout: float | None = 60.0,
    on_line: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any] | None:
    """Send one request; None when no supervisor listens. Raises on an error reply.
    ``on_line``: each line before the reply (``{"step": ...}``, ``{"log": ...}`` ...);
    ``timeout`` None: no limit (an attached `up` runs until the project ends)."""
    path = socket_path(project)
    if not path.exists():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            with localsock.addressable(path) as address:
                sock.connect(address)
        except (ConnectionRefusedError, FileNotFoundError):
            return None
        try:
            sock.sendall((json.dumps(request) + "\n").encode())
        except (BrokenPipeError, ConnectionResetError):
            return None  # it ended as we connected, before it read the request: none listens
        reply = _reply(_lines(sock), on_line)
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
    lines: Iterator[bytes], on_line: Callable[[dict[str, Any]], None] | None
) -> dict[str, Any]:
    for line in lines:
        doc: dict[str, Any] = json.loads(line)
        if "ok" not in doc:
            if on_line is not None:
                on_line(doc)
            continue
        return doc
    return {"ok": False, "error": "it ended without a reply"}
