"""A pre-forked monitor + init pair, so a create pays for no fork at all.

The zygote always keeps one spare ready. A spare is made like this (all before any request)::

    zygote ──fork──▶ B (monitor): setsid, SIGCHLD default, unshare(CLONE_NEWPID)
                      └──fork──▶ C (init, PID 1 of the new pid ns): waits on B's socket

On a request the zygote hands ``{op:create,...}`` + the launcher's sync socket to the spare's B
(SCM_RIGHTS) and forks the next spare while this container sets up. B opens the log, makes the
stdio pipes and passes ``request + [sync, stdin, stdout, stderr]`` on to C, writes C's pid into
the cgroup while C mounts its rootfs (cgroup v1 migrations can wait for an RCU grace period, so
overlapping them hides milliseconds), says "attached", then becomes the monitor
(``monitor.supervise``). C dup2s its stdio and runs the init steps (``init.run_init``).
If the zygote goes away, an idle spare sees EOF and both processes exit.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from typing import Any

from compose.runtime import init as initmod, monitor, syncproto, syscalls as sc

MAX_REQUEST = 1 << 20


def fork_spare(
    close_in_child: list[socket.socket], pid_mode: str | None = None
) -> socket.socket | None:
    """Fork a spare; returns the zygote's end of its socket (None if the fork failed).
    ``pid_mode`` ("host" or a pid ns file): made on demand, forks its init after the request."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        pid = os.fork()
    except OSError:
        ours.close()
        theirs.close()
        return None
    if pid == 0:
        for sock in [ours, *close_in_child]:
            sock.close()
        try:
            run_spare(theirs, pid_mode)
        finally:
            os._exit(1)
    theirs.close()
    return ours


def run_spare(ctl: socket.socket, pid_mode: str | None = None) -> None:
    """Process B. Never returns."""
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sc.set_process_name("pyc-monitor")
    pair = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    console = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    if pid_mode is None:
        sc.unshare(sc.CLONE_NEWPID)
        pid = _fork_init(ctl, pair, console)
    msg, fds, _flags, _addr = socket.recv_fds(ctl, MAX_REQUEST, 4)
    ctl.close()
    if pid_mode is None and (not msg or not fds):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os._exit(0)
    if not msg or not fds:
        os._exit(0)
    sync = socket.socket(fileno=fds[0])
    if pid_mode is not None:
        _enter_pid_mode(pid_mode, sync)
        pid = _fork_init(None, pair, console)
    attach = fds[1:4] if len(fds) == 4 else None
    start_container(json.loads(msg), msg, sync, pid, pair[0], console[0], console[1], attach)


def _fork_init(
    ctl: socket.socket | None,
    pair: tuple[socket.socket, socket.socket],
    console: tuple[socket.socket, socket.socket],
) -> int:
    pid = os.fork()
    if pid == 0:
        for sock in (ctl, pair[0], console[0]):
            if sock is not None:
                sock.close()
        run_waiting_init(pair[1], console[1])
    pair[1].close()
    return pid


def _enter_pid_mode(pid_mode: str, sync: socket.socket) -> None:
    """``host``: stay in this pid namespace; a path: the init is born in that one."""
    if pid_mode == "host":
        return
    try:
        fd = os.open(pid_mode, os.O_RDONLY)
        sc.setns(fd, sc.CLONE_NEWPID)
        os.close(fd)
    except OSError as err:
        syncproto.send_error(sync, "join pid namespace", err)
        os._exit(1)


def start_container(
    req: dict[str, Any],
    raw: bytes,
    sync: socket.socket,
    pid: int,
    to_init: socket.socket,
    console_b: socket.socket,
    console_c: socket.socket,
    attach: list[int] | None = None,
) -> None:
    """Still B: hand the request to the waiting init, then monitor it. Never returns.

    ``attach`` = a client's (stdin, stdout, stderr) (``run`` in the foreground): without a tty
    they are the container's own stdio; with one, B relays them to and from the pty master."""
    spec = req["spec"]
    tty = bool(spec.get("tty"))
    fifo_path = os.path.join(spec["replica_dir"], "stdin") if spec.get("stdin_open") else None
    try:
        log_fd = os.open(req["log_path"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        if attach is not None:
            streams, child_fds, fifo = _attached_stdio(tty, attach)
        else:
            streams, child_fds, fifo = monitor.make_stdio(tty, fifo_path)
        socket.send_fds(to_init, [raw], [sync.fileno(), *child_fds])
    except Exception as err:
        syncproto.send_error(sync, "start monitor", err)
        os.kill(pid, signal.SIGKILL)
        os._exit(1)
    for fd in set(child_fds):
        os.close(fd)
    console_c.close()
    attach_cgroup(req, sync, pid, to_init)
    monitor.report_pid(sync, pid)
    forward = None
    if tty:
        streams = monitor.receive_console(console_b)
        forward = (fifo, next(iter(streams))) if fifo is not None and streams else None
    else:
        console_b.close()
    monitor.supervise(
        req,
        pid,
        streams,
        log_fd,
        forward,
        reap_group=bool(spec.get("pid_mode")),
        raw_fd=attach[1] if attach is not None else None,
    )


def _attached_stdio(tty: bool, attach: list[int]) -> tuple[dict[int, str], list[int], int | None]:
    """(streams, the init's 0/1/2, the fd relayed into the pty) for an attached client."""
    if not tty:
        return {}, list(attach), None
    null = os.open("/dev/null", os.O_RDWR)
    return {}, [null, null, null], attach[0]


def attach_cgroup(
    req: dict[str, Any], sync: socket.socket, pid: int, to_init: socket.socket
) -> None:
    """Move the init into its cgroup (the parent side of "attach before GO") and tell it."""
    try:
        for path in req.get("cgroup_procs", ()):
            with open(path, "w") as f:
                f.write(str(pid))
        to_init.send(b"attached")
    except OSError as err:
        syncproto.send_error(sync, "join cgroup", err)
        os.kill(pid, signal.SIGKILL)
        os._exit(1)
    to_init.close()


def run_waiting_init(init_end: socket.socket, console: socket.socket) -> None:
    """Process C, PID 1 of the new pid namespace. Never returns."""
    sc.set_process_name("pyc-init")
    msg, fds, _flags, _addr = socket.recv_fds(init_end, MAX_REQUEST, 4)
    if not msg or len(fds) < 4:
        os._exit(0)
    sync = socket.socket(fileno=fds[0])
    sync.set_inheritable(False)  # SCM_RIGHTS fds arrive inheritable: never leak it to the workload
    try:
        for target, fd in enumerate(fds[1:4]):
            os.dup2(fd, target, inheritable=True)
        for fd in set(fds[1:4]):
            if fd > 2:
                os.close(fd)
        req = json.loads(msg)
        ctx = initmod.context_from_request(req, sync)
        ctx.console = console if req["spec"].get("tty") else None
        ctx.attached = init_end
        if ctx.console is None:
            console.close()
    except Exception as err:
        syncproto.send_error(sync, "init", err)
        os._exit(127)
    initmod.run_init(ctx)
