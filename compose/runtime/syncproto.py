"""The launcher ⇄ container-init protocol: one JSON object per SOCK_SEQPACKET message.

    launcher (supervisor thread)        zygote          monitor (B)            init (C, PID 1)
    ───────────────────────────         ──────          ───────────            ───────────────
    socketpair(SEQPACKET) ── {op:create, spec} + fd ──▶ fork B
                                                        setsid, pipes,
                                                        unshare(PID), fork C ─▶ (runs the steps)
        ◀──────────────────────── {t:"pid", pid, start_time, monitor_pid, monitor_start_time}
        ◀──────────────────────────────────────────────────────────────────── {t:"ready"}
      (or at any point)  ◀──────────────────────────── {t:"error", step, errno, message}
    create() returns the handle
    start(): ── {t:"go"} ──────────────────────────────────────────────────▶ resolve argv[0], execve
        ◀── EOF (the socket is close-on-exec: EOF means execve succeeded)
        ◀── {t:"error", step:"exec", ...} and the init exits 127 (126 for EACCES)

The monitor closes its copy of the socket after the pid message, so EOF after "go" is exactly the
init's execve. Every message is < 4 KiB, so each ``send`` is one atomic packet.
"""

from __future__ import annotations

import json
import socket
from typing import Any

MAX = 65536


def send(sock: socket.socket, kind: str, **fields: Any) -> None:
    sock.send(json.dumps({"t": kind, **fields}).encode())


def send_error(sock: socket.socket, step: str, err: BaseException) -> None:
    code = getattr(err, "errno", None) or 0
    message = getattr(err, "strerror", None) or str(err)
    try:
        send(sock, "error", step=step, errno=code, message=message)
    except OSError:
        pass


def recv(sock: socket.socket) -> dict[str, Any] | None:
    """The next message, or None on EOF."""
    raw = sock.recv(MAX)
    return json.loads(raw) if raw else None
