"""A supervisor's API (the detached one and a foreground `up` serve the same): one JSON request
line, one JSON reply line, on a unix socket at ``<run>/projects/<project>/supervisor.sock``.

    client ──{"op": "stop", ...}──────────► server ──handler(request)──► {"ok": true, ...}
                                                 (an error: {"ok": false, "error", "hint"})

The wire only: the requests and replies are ``protocol``'s, the handler is the
``SupervisorService``. The client is synchronous (the CLI has no event loop); the server runs
in the supervisor.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from compose import localsock
from compose.errors import OperationError, UserError
from compose.state.layout import socket_path

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
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
        try:
            reply = await handler(json.loads(data or b"{}"))
        except Exception as exc:
            reply = {"ok": False, "error": str(exc)}
            if isinstance(exc, UserError):  # the client raises it again as the user's mistake
                reply.update(user_error=True, hint=exc.hint)
        with contextlib.suppress(Exception):
            await stream.send((json.dumps(reply) + "\n").encode())


def call(project: str, request: dict[str, Any], timeout: float = 60.0) -> dict[str, Any] | None:
    """Send one request; None when no supervisor listens. Raises on an error reply."""
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
        reply = _read_line(sock)
    if not reply.get("ok", False) and reply.get("user_error"):
        raise UserError(reply.get("error", "failed"), hint=reply.get("hint"))
    if not reply.get("ok", False):
        raise OperationError(f'project "{project}" supervisor: {reply.get("error", "failed")}')
    return reply


def _read_line(sock: socket.socket) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    reply: dict[str, Any] = json.loads(
        data or b'{"ok": false, "error": "it ended without a reply"}'
    )
    return reply
