"""The per-container monitor (process B): forks the init, copies its output, records its exit.

B is forked by the zygote for each container and lives exactly as long as the container:
- ``setsid`` so a Ctrl-C on the supervisor's terminal never reaches the container;
- makes the stdout/stderr pipes (or a pty when ``tty``), ``unshare(CLONE_NEWPID)`` and forks the
  init C, which is therefore PID 1 of the new pid namespace;
- reports ``{t:"pid"}`` to the launcher and closes its copy of the sync socket;
- copies the pipes into the JSON-lines log file (Docker's json-file format:
  ``{"log": "...\\n", "stream": "stdout", "time": "<RFC 3339, ns>"}``), lines split at 16 KiB;
- on the init's exit writes ``<replica_dir>/exit.json`` (code, signal, oom_killed) atomically and
  exits with the same code. The supervisor can die at any time without losing a line.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
from typing import Any

from compose.runtime import init as initmod
from compose.runtime import syncproto
from compose.runtime import syscalls as sc
from compose.runtime.procfs import proc_start_time

MAX_LINE = 16 * 1024
EXIT_FILE = "exit.json"


def timestamp(ns: int | None = None) -> str:
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


class LogWriter:
    """Turns byte chunks per stream into JSON lines appended to one fd."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.partial: dict[str, bytes] = {}

    def feed(self, stream: str, chunk: bytes) -> None:
        buf = self.partial.get(stream, b"") + chunk
        out = []
        while True:
            nl = buf.find(b"\n")
            if nl < 0 and len(buf) < MAX_LINE:
                break
            cut = nl + 1 if 0 <= nl < MAX_LINE else MAX_LINE
            out.append(self._line(stream, buf[:cut]))
            buf = buf[cut:]
        self.partial[stream] = buf
        if out:
            os.write(self.fd, b"".join(out))

    def flush(self, stream: str) -> None:
        rest = self.partial.pop(stream, b"")
        if rest:
            os.write(self.fd, self._line(stream, rest))

    @staticmethod
    def _line(stream: str, raw: bytes) -> bytes:
        doc = {"log": raw.decode("utf-8", "replace"), "stream": stream, "time": timestamp()}
        return (json.dumps(doc, ensure_ascii=False) + "\n").encode()


def copy_logs(streams: dict[int, str], writer: LogWriter) -> None:
    poller = select.poll()
    for fd in streams:
        poller.register(fd, select.POLLIN)
    open_fds = set(streams)
    while open_fds:
        for fd, _ev in poller.poll():
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO on a pty master once the slave side is gone
                chunk = b""
            if chunk:
                writer.feed(streams[fd], chunk)
                continue
            poller.unregister(fd)
            open_fds.discard(fd)
            writer.flush(streams[fd])


def exit_status(status: int, oom_file: str) -> dict[str, Any]:
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    code = 128 + sig if sig else os.waitstatus_to_exitcode(status)
    return {"code": code, "signal": sig, "oom_killed": oom_kills(oom_file) > 0,
            "finished_at": timestamp()}


def oom_kills(path: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def write_exit(replica_dir: str, doc: dict[str, Any]) -> None:
    tmp = os.path.join(replica_dir, EXIT_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.rename(tmp, os.path.join(replica_dir, EXIT_FILE))


def _stdio(tty: bool) -> tuple[dict[int, str], list[int], list[int], list[socket.socket]]:
    """(parent fds → stream, child fds for 0/1/2, fds closed after the fork, console pair).

    With a tty the init opens a pty in the container's own devpts (so ``tty`` names a path that
    exists inside) and passes the master back over the console socketpair.
    """
    null = os.open("/dev/null", os.O_RDWR)
    if tty:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        return {}, [null, null, null], [null], [ours, theirs]
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    return {out_r: "stdout", err_r: "stderr"}, [null, out_w, err_w], [null, out_w, err_w], []


def _child(req: dict[str, Any], sock: socket.socket, fds: list[int], parent_fds: list[int],
           console: socket.socket | None) -> None:
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target, inheritable=True)
        for fd in parent_fds:
            os.close(fd)
        ctx = initmod.context_from_request(req, sock)
        ctx.console = console
    except Exception as err:
        syncproto.send_error(sock, "init", err)
        os._exit(127)
    initmod.run_init(ctx)


def _receive_console(console: socket.socket) -> dict[int, str]:
    """The pty master from the init (nothing if it failed before making one)."""
    try:
        _msg, fds, _flags, _addr = socket.recv_fds(console, 16, 1)
    except OSError:
        fds = []
    console.close()
    return {fds[0]: "stdout"} if fds else {}


def run_monitor(req: dict[str, Any], sock: socket.socket) -> None:
    """Never returns."""
    spec = req["spec"]
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log_fd = os.open(req["log_path"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        streams, child_fds, close_after, console = _stdio(bool(spec.get("tty")))
        sc.unshare(sc.CLONE_NEWPID)
        pid = os.fork()
    except Exception as err:
        syncproto.send_error(sock, "start monitor", err)
        os._exit(1)
    if pid == 0:
        if console:
            console[0].close()
        _child(req, sock, child_fds, [log_fd, *streams], console[1] if console else None)
    for fd in close_after:
        os.close(fd)
    _report_pid(sock, pid)
    if console:
        console[1].close()
        streams = _receive_console(console[0])
    copy_logs(streams, LogWriter(log_fd))
    _pid, status = os.waitpid(pid, 0)
    doc = exit_status(status, req.get("oom_file", ""))
    write_exit(spec["replica_dir"], doc)
    os._exit(doc["code"] & 0xFF)


def _report_pid(sock: socket.socket, pid: int) -> None:
    me = os.getpid()
    try:
        syncproto.send(sock, "pid", pid=pid, start_time=proc_start_time(pid), monitor_pid=me,
                       monitor_start_time=proc_start_time(me))
    except OSError:
        pass
    sock.close()
