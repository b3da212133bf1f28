"""A supervisor's API (the detached one and a foreground `up` serve the same): one JSON request
line, one JSON reply line, on a unix socket at ``<run>/projects/<project>/supervisor.sock``.

    client ──{"op": "status"}──────────────► server ──handler(request)──► {"ok": true, ...}
    ops: status | shutdown | apply | scale | down | rm | stop | start | restart | kill | pause
         | unpause   (stop … unpause reply the replicas they acted on: {"changed": [...]})

The client is synchronous (the CLI has no event loop); the server runs in the supervisor.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from compose.errors import OperationError, UserError
from compose.state.layout import listening_sockets, socket_path

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
MAX_LINE = 1 << 20


async def serve(path: Path, handler: Handler) -> None:
    """Serve until cancelled. Each connection carries exactly one request."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    import anyio  # here: clients (`call`) stay free of it

    listener = await anyio.create_unix_listener(path)
    try:
        async with listener:
            await listener.serve(lambda stream: _one(stream, handler))
    finally:
        path.unlink(missing_ok=True)


async def _one(stream: Any, handler: Handler) -> None:
    import anyio

    async with stream:
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


def forward_up(project: str, request: dict[str, Any]) -> dict[str, Any] | None:
    """An ``up -d`` request ({"load", "up", "run"}) for the project's running supervisor, which
    reloads the file and converges; its reply ({"actions", "warnings", "failures"}), or None
    when no supervisor listens (a status probe first: a hung one fails in 5 s, not 600)."""
    if call(project, {"op": "status"}, timeout=5) is None:
        return None
    run = request["run"]
    apply = {
        "op": "apply",
        "load": request["load"],
        "up": request["up"],
        "pull": run.get("pull", "missing"),
        "wait": run.get("wait"),
        "wait_timeout": run.get("wait_timeout"),
    }
    return call(project, apply, timeout=600) or {}


def any_listening() -> bool:
    """Some project's supervisor has its socket up (cheap: one glob, no stack file read)."""
    return bool(listening_sockets())


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
