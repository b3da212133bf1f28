"""``exec`` into a running container: ``python -m compose.runtime.nsexec '<json request>'``.

A fresh, single-threaded helper (X) is spawned with Popen by ``spawn``; its exit code IS the
command's exit code (128 + signal when the command was killed), so ``Popen.wait()`` propagates it.

X: check pid + start time → join the container's cgroup → (tty: open a pty in the container's
own devpts via /proc/<pid>/root/dev/ptmx) → setns cgroup, ipc, uts, net, pid, mnt (mnt last: it
also moves X's root into the container) → fork Y (a member of the container's pid namespace).
Y: the same tail of steps as the init (user lookup in the container's /etc/passwd, bounding set,
seccomp, groups/uid/gid, capabilities, no_new_privs, chdir) → execve.
X relays the pty (tty mode) or just waits (``-T``: Y inherits X's stdio), then exits like Y.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import sys
import termios
import tty as ttymod
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from compose.errors import ContainerError
from compose.procfs import process_start_time
from compose.runtime import caps as capmod, init as initmod, syncproto, syscalls as sc
from compose.runtime.spec import ContainerHandle, ContainerSpec

NAMESPACES = (
    ("cgroup", sc.CLONE_NEWCGROUP),
    ("ipc", sc.CLONE_NEWIPC),
    ("uts", sc.CLONE_NEWUTS),
    ("net", sc.CLONE_NEWNET),
    ("pid", sc.CLONE_NEWPID),
    ("mnt", sc.CLONE_NEWNS),
)
SPEC_FILE = "spec.json"
PR_SET_PDEATHSIG = 1
FORWARDED = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
)
TAIL_STEPS = (
    "umask",
    "rlimits",
    "resolve user",
    "capabilities",
    "seccomp",
    "set user",
    "no_new_privs",
    "chdir",
)


def exec_request(
    runtime: Any,
    handle: ContainerHandle,
    argv: list[str],
    *,
    env: list[str] | None = None,
    user: str | None = None,
    workdir: str | None = None,
    tty: bool = False,
) -> dict[str, Any]:
    """The helper's request; refuses a paused or stopped container the way Docker does."""
    state = runtime.state(handle)
    if state == "paused":
        raise ContainerError(
            f"{handle.subject}: exec: container is paused", hint="unpause the container before exec"
        )
    if state != "running":
        raise ContainerError(f"{handle.subject}: exec: container is not running")
    return {
        "op": "exec",
        "pid": handle.pid,
        "start_time": handle.start_time,
        "spec_file": str(handle.replica_dir / SPEC_FILE),
        "cgroup_procs": runtime.cgroups.procs_files(handle.cgroup_path),
        "argv": list(argv),
        "env": list(env or ()),
        "user": user,
        "workdir": workdir,
        "tty": tty,
    }


def spawn(
    runtime: Any,
    handle: ContainerHandle,
    argv: list[str],
    *,
    env: list[str] | None = None,
    user: str | None = None,
    workdir: str | None = None,
    tty: bool = False,
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """A fresh interpreter as the helper (used when the caller wants pipes: a real Popen)."""
    req = exec_request(runtime, handle, argv, env=env, user=user, workdir=workdir, tty=tty)
    return subprocess.Popen(
        [sys.executable, "-m", "compose.runtime.nsexec", json.dumps(req)], close_fds=True, **popen
    )


def _exec_spec(req: dict[str, Any]) -> ContainerSpec:
    spec = ContainerSpec.from_dict(json.loads(Path(req["spec_file"]).read_text()))
    from compose.runtime.dockerrules import replace_or_append

    env = replace_or_append(spec.env, req["env"])
    if req["tty"] and not any(e.startswith("TERM=") for e in env):
        env.append("TERM=xterm")  # as docker's exec -t
    return replace(
        spec,
        argv=tuple(req["argv"]),
        env=tuple(env),
        user=spec.user if req["user"] is None else req["user"],
        workdir=req["workdir"] or spec.workdir,
    )


def _open_pty(pid: int) -> tuple[int, int]:
    master, slave_path = initmod.open_pty(f"/proc/{pid}/root/dev/pts/ptmx")
    return master, int(slave_path.rsplit("/", 1)[1])


def _join(req: dict[str, Any]) -> None:
    pid = req["pid"]
    fds = [(os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY), flag) for name, flag in NAMESPACES]
    if process_start_time(pid) != req["start_time"]:
        raise ContainerError("exec: container is not running")
    for path in req["cgroup_procs"]:
        with open(path, "w") as f:
            f.write("0")
    for fd, flag in fds:
        sc.setns(fd, flag)
        os.close(fd)


def _child(spec: ContainerSpec, pty_number: int | None, seccomp_filter: bytes) -> None:
    sc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # killing the helper (a timeout) kills the command
    if pty_number is not None:
        os.setsid()
        slave = os.open(f"/dev/pts/{pty_number}", os.O_RDWR)
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for target in (0, 1, 2):
            os.dup2(slave, target)
    ctx = initmod.InitContext(
        spec=spec,
        sock=None,
        cgroup_procs=[],
        etc_files=[],
        argv=spec.argv,
        caps=capmod.effective_set(spec.cap_add, spec.cap_drop, spec.privileged),
        seccomp_filter=seccomp_filter,
    )
    try:
        for name, fn in initmod.STEPS:
            if name in TAIL_STEPS:
                initmod._step(name, fn, ctx)
    except initmod.StepFailed as failed:
        sys.stderr.write(f"exec: {failed.step}: {failed.err}\n")
        os._exit(126)
    initmod.exec_workload(ctx)


def _copy_winsize(master: int) -> None:
    """The caller's terminal size onto the pty (the kernel then signals SIGWINCH inside)."""
    with contextlib.suppress(OSError):
        size = fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(master, termios.TIOCSWINSZ, size)


def _relay(master: int, child: int) -> int:
    stdin_tty = os.isatty(0)
    saved = termios.tcgetattr(0) if stdin_tty else None
    if stdin_tty:
        ttymod.setraw(0)
        _copy_winsize(master)
        signal.signal(signal.SIGWINCH, lambda _s, _f: _copy_winsize(master))
    try:
        _pump(master)
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
    return os.waitpid(child, 0)[1]


def _pump(master: int) -> None:
    inputs = [master, 0]
    while master in inputs:
        ready, _, _ = select.select(inputs, [], [])
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                inputs.remove(fd)
            elif fd == master:
                os.write(1, data)
            else:
                os.write(master, data)


def serve_exec(req: dict[str, Any], fds: list[int]) -> None:
    """The helper as a fork of the zygote: fds = [sync, stdin, stdout, stderr]. Never returns.

    Reports ``{t:"pid"}`` then ``{t:"exit", code}`` on the sync socket (see ``execfast``)."""
    sync = socket.socket(fileno=fds[0])
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for target, fd in enumerate(fds[1:4]):
        os.dup2(fd, target, inheritable=True)
    for fd in set(fds[1:4]):
        if fd > 2:
            os.close(fd)
    syncproto.send(sync, "pid", pid=os.getpid())
    code = 126
    try:
        code = run(req)
    finally:
        with contextlib.suppress(OSError):
            syncproto.send(sync, "exit", code=code)
        os._exit(code)


def main(argv: list[str]) -> int:
    return run(json.loads(argv[1]))


def run(req: dict[str, Any]) -> int:
    spec = _exec_spec(req)
    caps = capmod.effective_set(spec.cap_add, spec.cap_drop, spec.privileged)
    seccomp_filter = initmod.seccomp_filter(spec, caps)  # before the mount ns changes
    master, number = _open_pty(req["pid"]) if req["tty"] else (None, None)
    try:
        _join(req)
    except (OSError, ContainerError) as err:
        sys.stderr.write(f"exec: join container: {err}\n")
        return 126
    pid = os.fork()
    if pid == 0:
        _child(spec, number, seccomp_filter)
    for sig in FORWARDED:
        signal.signal(sig, lambda s, _f: os.kill(pid, s))
    status = _relay(master, pid) if master is not None else os.waitpid(pid, 0)[1]
    killed_by = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    return 128 + killed_by if killed_by else os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
