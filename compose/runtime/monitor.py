"""The per-container monitor's work (process B, see ``spare``): logs and the exit record.

B lives exactly as long as its container:
- reports ``{t:"pid"}`` to the launcher and closes its copy of the sync socket;
- copies the pipes into the JSON-lines log file (Docker's json-file format:
  ``{"log": "...\\n", "stream": "stdout", "time": "<RFC 3339, ns>"}``), lines split at 16 KiB;
- on the init's exit writes ``<replica_dir>/exit.json`` (code, signal, oom_killed) atomically and
  exits with the same code. The supervisor can die at any time without losing a line.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import time
from typing import Any

from compose.procfs import process_start_time
from compose.runtime import syncproto

MAX_LINE = 16 * 1024
EXIT_FILE = "exit.json"


def timestamp(ns: int | None = None) -> str:
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


class LogWriter:
    """Turns byte chunks per stream into JSON lines appended to one fd.

    With ``rotate`` = (max_size, max_files) and the file's ``path``, as docker's json-file
    driver: once the file reaches max_size it becomes ``<path>.1`` (``.1`` → ``.2`` …, the
    oldest beyond max_files - 1 dropped; max_files 1 truncates) and a new one is started."""

    def __init__(
        self, fd: int, path: str | None = None, rotate: tuple[int, int] | None = None
    ) -> None:
        self.fd = fd
        self.partial: dict[str, bytes] = {}
        self.path, self.rotate = path, rotate
        self.size = os.fstat(fd).st_size if rotate else 0

    def _write(self, lines: list[bytes]) -> None:
        """Whole lines; with rotation, a file never grows past max_size by more than a line."""
        if self.rotate is None or self.path is None:
            os.write(self.fd, b"".join(lines))
            return
        batch: list[bytes] = []
        for line in lines:
            if self.size and self.size + len(line) > self.rotate[0]:
                if batch:
                    os.write(self.fd, b"".join(batch))
                    batch = []
                self._rotate(self.path, self.rotate[1])
            batch.append(line)
            self.size += len(line)
        if batch:
            os.write(self.fd, b"".join(batch))

    def _rotate(self, path: str, keep: int) -> None:
        if keep <= 1:
            os.ftruncate(self.fd, 0)
        else:
            for i in range(keep - 1, 0, -1):
                older = f"{path}.{i - 1}" if i > 1 else path
                with contextlib.suppress(FileNotFoundError):
                    os.rename(older, f"{path}.{i}")
            fresh = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            os.dup2(fresh, self.fd)
            os.close(fresh)
        self.size = 0

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
            self._write(out)

    def flush(self, stream: str) -> None:
        rest = self.partial.pop(stream, b"")
        if rest:
            self._write([self._line(stream, rest)])

    @staticmethod
    def _line(stream: str, raw: bytes) -> bytes:
        doc = {"log": raw.decode("utf-8", "replace"), "stream": stream, "time": timestamp()}
        return (json.dumps(doc, ensure_ascii=False) + "\n").encode()


class RawWriter:
    """An attached client (``run`` in the foreground): the container's bytes go to its fd as
    they come, unframed and unbuffered (a shell prompt has no newline)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def feed(self, stream: str, chunk: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self.fd, chunk)

    def flush(self, stream: str) -> None:
        pass


def _forward(source: int, target: int) -> bool:
    """One chunk from source to target; False at the source's end of file."""
    try:
        chunk = os.read(source, 65536)
    except OSError:
        return False
    with contextlib.suppress(OSError):
        os.write(target, chunk)
    return bool(chunk)


def kill_cgroup(procs_files: Any) -> None:
    for _ in range(20):
        pids = {int(p) for f in procs_files for p in _read_text(f).split()}
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, 9)
        time.sleep(0.01)


def _read_text(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def copy_logs(
    streams: dict[int, str],
    writer: LogWriter | RawWriter,
    forward: tuple[int, int] | None = None,
    watch: tuple[int, Any] | None = None,
) -> None:
    """Until every output stream is closed; ``forward`` = (stdin fifo, pty master) for tty;
    ``watch`` = (fd, callback) run once when the fd becomes readable (a pidfd)."""
    poller = select.poll()
    for fd in [*streams, *(forward[:1] if forward else ()), *(watch[:1] if watch else ())]:
        poller.register(fd, select.POLLIN)
    open_fds = set(streams)
    while open_fds:
        for fd, _ev in poller.poll():
            if forward and fd == forward[0]:
                if not _forward(*forward):
                    poller.unregister(fd)
                continue
            if watch and fd == watch[0]:
                poller.unregister(fd)
                watch[1]()
                continue
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
    return {
        "code": code,
        "signal": sig,
        "oom_killed": oom_kills(oom_file) > 0,
        "finished_at": timestamp(),
    }


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


def make_stdio(
    tty: bool, stdin_fifo: str | None = None
) -> tuple[dict[int, str], list[int], int | None]:
    """(monitor's read fds → stream name, the init's fds for 0/1/2, the stdin fifo fd).

    With a tty the init opens a pty in the container's own devpts (so ``tty`` names a path that
    exists inside) and passes the master back over the console socketpair (see ``spare``).
    ``stdin_open``: stdin is the fifo ``<replica_dir>/stdin``, opened read-write so it never
    reports EOF; anyone may write into it (``attach``/``run -i``). With a tty the monitor relays
    it into the pty.
    """
    null = os.open("/dev/null", os.O_RDWR)
    fifo = None
    if stdin_fifo is not None:
        if not os.path.exists(stdin_fifo):
            os.mkfifo(stdin_fifo, 0o600)
        fifo = os.open(stdin_fifo, os.O_RDWR)
    if tty:
        return {}, [null, null, null], fifo
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    stdin = fifo if fifo is not None else null
    return {out_r: "stdout", err_r: "stderr"}, [stdin, out_w, err_w], None


def receive_console(console: socket.socket) -> dict[int, str]:
    """The pty master from the init (nothing if it failed before making one)."""
    try:
        _msg, fds, _flags, _addr = socket.recv_fds(console, 16, 1)
    except OSError:
        fds = []
    console.close()
    return {fds[0]: "stdout"} if fds else {}


def report_pid(sock: socket.socket, pid: int) -> None:
    me = os.getpid()
    try:
        syncproto.send(
            sock,
            "pid",
            pid=pid,
            start_time=process_start_time(pid),
            monitor_pid=me,
            monitor_start_time=process_start_time(me),
        )
    except OSError:
        pass
    sock.close()


def supervise(
    req: dict[str, Any],
    init_pid: int,
    streams: dict[int, str],
    log_fd: int,
    forward: tuple[int, int] | None = None,
    reap_group: bool = False,
    raw_fd: int | None = None,
) -> None:
    """Copy the output until the container is gone, record its exit, exit the same way.
    ``raw_fd``: an attached client's stdout gets the (tty) output instead of the log file.

    ``reap_group`` (a shared pid namespace: no kernel teardown when the main process exits):
    when it exits, every other process of the container's cgroup is killed, as Docker does."""
    watch = None
    if reap_group:
        watch = (os.pidfd_open(init_pid), lambda: kill_cgroup(req.get("cgroup_procs", ())))
    rotate = req.get("log_rotate")
    writer = (
        LogWriter(log_fd, req.get("log_path"), tuple(rotate) if rotate else None)
        if raw_fd is None
        else RawWriter(raw_fd)
    )
    copy_logs(streams, writer, forward, watch)
    _pid, status = os.waitpid(init_pid, 0)
    doc = exit_status(status, req.get("oom_file", ""))
    write_exit(req["spec"]["replica_dir"], doc)
    os._exit(doc["code"] & 0xFF)
