"""The pre-forked, single-threaded fork server: ``python -m compose.runtime.zygote <fd>``.

Started once per ``LinuxRuntime`` (the supervisor never forks itself: it has threads). It imports
everything the monitor and init need, then loops: receive ``{op:"create", ...}`` plus the
container's sync socket (SCM_RIGHTS) on its SOCK_SEQPACKET control socket, fork a monitor for it,
close its copy, repeat. Forking a warm interpreter costs ~1 ms where exec'ing a fresh Python costs
~20 ms plus imports. SIGCHLD is ignored, so the kernel reaps the monitors' zombies; monitors
outlive the zygote (they are session leaders and only need the files they write).
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

from compose.runtime import monitor, seccomp

MAX_REQUEST = 1 << 20


def serve(ctl: socket.socket) -> None:
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(ctl, MAX_REQUEST, 4)
        except InterruptedError:
            continue
        if not msg:
            return
        req = json.loads(msg)
        if not fds:
            continue
        for fd in fds:  # SCM_RIGHTS fds arrive inheritable; the workload must not keep them
            os.set_inheritable(fd, False)
        pid = os.fork()
        if pid == 0:
            ctl.close()
            try:
                monitor.run_monitor(req, socket.socket(fileno=fds[0]))
            finally:
                os._exit(1)
        for fd in fds:
            os.close(fd)


def warm_up() -> None:
    """Build what every container needs once, so the forks inherit it (copy-on-write)."""
    machine = platform.machine()
    if machine in seccomp.TABLES:
        for has_sys_admin in (False, True):
            seccomp.program_bytes(machine, has_sys_admin)
    gc.collect()
    gc.freeze()  # keep the collector from touching (and copying) the inherited heap
    gc.disable()


def main(argv: list[str]) -> None:
    warm_up()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(socket.socket(fileno=int(argv[1])))


if __name__ == "__main__":
    main(sys.argv)
