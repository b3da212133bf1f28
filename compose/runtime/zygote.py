"""The pre-forked, single-threaded fork server: ``python -m compose.runtime.zygote <fd>``.

Started once per ``LinuxRuntime`` (the supervisor never forks itself: it has threads). It imports
everything the monitor and init need, then loops: receive ``{op:"create", ...}`` plus the
container's sync socket (SCM_RIGHTS) on its SOCK_SEQPACKET control socket, hand both to the
pre-forked spare monitor/init pair (``spare``), fork the next spare, repeat. Forking a warm
interpreter costs ~1 ms where exec'ing a fresh Python costs ~20 ms plus imports; the spare takes
even that off the create path. SIGCHLD is ignored, so the kernel reaps the monitors' zombies;
monitors outlive the zygote (they are session leaders and only need the files they write).
The zygote exits when the control socket reports EOF (its runtime went away).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import signal
import socket
import sys

from compose.runtime import caps, nsexec, seccomp, syncproto, syscalls as sc
from compose.runtime.spare import MAX_REQUEST, fork_spare


def dispatch(spare: socket.socket | None, msg: bytes, fds: list[int]) -> bool:
    """Hand a create request to a spare: fds = [sync] or [sync, stdin, stdout, stderr]."""
    if spare is None:
        return False
    try:
        socket.send_fds(spare, [msg], fds)
    except OSError:
        return False
    finally:
        spare.close()
    return True


def fork_exec_helper(msg: bytes, fds: list[int], ctl: socket.socket) -> None:
    for fd in fds:  # SCM_RIGHTS fds arrive inheritable; only stdio may reach the command
        os.set_inheritable(fd, False)
    try:
        pid = os.fork()
    except OSError as err:
        syncproto.send_error(socket.socket(fileno=os.dup(fds[0])), "fork", err)
        pid = -1
    if pid == 0:
        ctl.close()
        try:
            nsexec.serve_exec(json.loads(msg), fds)
        finally:
            os._exit(126)
    for fd in fds:
        os.close(fd)


def serve(ctl: socket.socket) -> None:
    spare = fork_spare([ctl])
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(ctl, MAX_REQUEST, 4)
        except InterruptedError:
            continue
        if not msg:
            return
        req = json.loads(msg)
        if fds and req.get("op") == "exec":
            fork_exec_helper(msg, fds, ctl)
            continue
        pid_mode = req.get("spec", {}).get("pid_mode")
        if fds and pid_mode:  # a shared pid namespace: a spare made for it
            if not dispatch(fork_spare([ctl], pid_mode), msg, fds):
                syncproto.send_error(
                    socket.socket(fileno=os.dup(fds[0])),
                    "fork",
                    OSError(11, "cannot fork a container monitor"),
                )
            for fd in fds:
                os.close(fd)
            continue
        if fds and not dispatch(spare, msg, fds):  # the spare died: one fresh try
            if not dispatch(fork_spare([ctl]), msg, fds):
                syncproto.send_error(
                    socket.socket(fileno=os.dup(fds[0])),
                    "fork",
                    OSError(11, "cannot fork a container monitor"),
                )
        for fd in fds:
            os.close(fd)
        spare = fork_spare([ctl])


def warm_up() -> None:
    """Build what every container needs once, so the forks inherit it (copy-on-write)."""
    machine = platform.machine()
    if seccomp.supported(machine):
        default = caps.effective_set()
        for extra in (frozenset(), frozenset({"SYS_ADMIN"})):
            seccomp.program_bytes("", machine, default | extra)
    gc.collect()
    gc.freeze()  # keep the collector from touching (and copying) the inherited heap
    gc.disable()


def main(argv: list[str]) -> None:
    warm_up()
    sc.set_process_name("pyc-zygote")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(socket.socket(fileno=int(argv[1])))
    # the control socket closed: exit without the interpreter's teardown (~30 ms of module
    # cleanup over the frozen heap, which the supervisor's close and so `down` waited for);
    # the spare sees its socket close and exits on its own
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
