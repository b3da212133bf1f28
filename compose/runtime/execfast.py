"""``exec`` without starting an interpreter: the zygote forks the exec helper.

``nsexec.spawn`` costs a fresh Python (~35-80 ms of CPU here) per exec; healthchecks exec every
few seconds per replica. When the caller does not ask for pipes, the helper is instead a fork
of the warm zygote (``nsexec.serve_exec``): ``{op:"exec", ...}`` + [sync, stdin, stdout, stderr]
(SCM_RIGHTS) go to the zygote; the helper reports ``{t:"pid"}`` and finally ``{t:"exit", code}``.

``ForkHere`` does the zygote's part in the calling process: for a single-threaded caller that
runs one exec and exits (the CLI's ``exec``), it saves starting the zygote's interpreter (~100 ms
of its ~150 ms). A process with threads (the supervisor) must not fork a helper itself.

``ExecProcess`` offers the part of ``subprocess.Popen`` callers use: ``pid``, ``returncode``,
``poll``, ``wait(timeout)`` (raises ``subprocess.TimeoutExpired``), ``send_signal``,
``terminate`` and ``kill`` (the helper forwards catchable signals; its command dies with it).
"""

from __future__ import annotations

import contextlib
import os
import signal as _signal
import socket
import subprocess
from typing import Any

from compose.errors import ContainerError
from compose.runtime import syncproto

PIPE_LIKE = (subprocess.PIPE, subprocess.STDOUT)


def wants_popen(popen: dict[str, Any]) -> bool:
    """Pipes or other Popen options need the real Popen path."""
    extra = set(popen) - {"stdin", "stdout", "stderr"}
    return bool(extra) or any(popen.get(k) in PIPE_LIKE for k in ("stdin", "stdout", "stderr"))


def _fd(value: Any, default: int, opened: list[int]) -> int:
    if value is None:
        return default
    if value == subprocess.DEVNULL:
        fd = os.open(os.devnull, os.O_RDWR)
        opened.append(fd)
        return fd
    return value if isinstance(value, int) else value.fileno()


class ExecProcess:
    def __init__(self, args: list[str], pid: int, sock: socket.socket) -> None:
        self.args, self.pid, self._sock = args, pid, sock
        self.returncode: int | None = None
        self._killed_by: int | None = None
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except OSError:
            self._pidfd = None

    def _finish(self, msg: dict[str, Any] | None) -> int:
        if msg is not None and msg.get("t") == "exit":
            self.returncode = int(msg["code"])
        else:  # the helper died without reporting: killed
            self.returncode = 128 + (self._killed_by or _signal.SIGKILL)
        self._close()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is not None:
            return self.returncode
        self._sock.settimeout(timeout)
        try:
            msg = syncproto.recv(self._sock)
        except TimeoutError:
            raise subprocess.TimeoutExpired(self.args, timeout or 0) from None
        except OSError:
            msg = None
        return self._finish(msg)

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                return self.wait(0)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None and self._pidfd is not None:
            self._killed_by = self._killed_by or sig
            with contextlib.suppress(ProcessLookupError):
                _signal.pidfd_send_signal(self._pidfd, sig)

    def terminate(self) -> None:
        self.send_signal(_signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(_signal.SIGKILL)

    def _close(self) -> None:
        self._sock.close()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._close()


class ForkHere:
    """A stand-in for the zygote's ``send``: forks the exec helper from this process."""

    def send(self, req: dict[str, Any], fds: list[int]) -> None:
        from compose.runtime import nsexec

        pid = os.fork()
        if pid == 0:  # the helper: its own session, reports on fds[0] (see nsexec.serve_exec)
            try:
                nsexec.serve_exec(req, fds)
            finally:
                os._exit(126)


def spawn(zygote: Any, req: dict[str, Any], popen: dict[str, Any]) -> ExecProcess:
    opened: list[int] = []
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        stdio = [
            _fd(popen.get(name), i, opened) for i, name in enumerate(("stdin", "stdout", "stderr"))
        ]
        zygote.send(req, [theirs.fileno(), *stdio])
    finally:
        theirs.close()
        for fd in opened:
            os.close(fd)
    ours.settimeout(30)
    msg = syncproto.recv(ours)
    if not msg or msg.get("t") != "pid":
        ours.close()
        raise ContainerError(f"exec: helper failed to start: {msg}")
    return ExecProcess(list(req["argv"]), int(msg["pid"]), ours)
