"""``LinuxRuntime``: the parent side. Synchronous; safe to call from several worker threads.

It never unshares, setns or forks a namespace itself: each container comes from the runtime's
zygote (``compose.runtime.zygote``, one per runtime, started on first use; ``spare`` for the
pre-forked monitor/init pair). See ``syncproto`` for the exchange. ``create`` = validate,
prepare dirs + cgroup, ask the zygote, read ``pid`` and ``ready``; ``start`` = send ``go`` and
wait for the execve (EOF) or its error; ``wait`` = the monitor's exit + ``exit.json``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import select
import shutil
import signal as _signal
import socket
import subprocess
import sys
import threading
from typing import Any

from compose.errors import ContainerError
from compose.procfs import is_alive
from compose.runtime import cgroups, etcfiles, syncproto
from compose.runtime.etcfiles import write_private
from compose.runtime.spec import ContainerHandle, ContainerSpec, ExitStatus
from compose.runtime.validate import validate_spec

log = logging.getLogger(__name__)

CREATE_TIMEOUT = 30.0
GONE = (errno.EPIPE, errno.ECONNRESET, errno.ECONNREFUSED, errno.ENOTCONN, errno.EBADF)
TINI_CANDIDATES = ("/usr/bin/tini-static", "/usr/bin/docker-init")


class ContainerStepError(ContainerError):
    """A named init step failed: ``service "web" replica 2: pivot_root: Invalid argument``."""

    def __init__(self, subject: str, step: str, errno: int, message: str) -> None:
        what = message if message.startswith(f"{step}:") else f"{step}: {message}"
        super().__init__(f"{subject}: {what}")
        self.step, self.errno = step, errno


def _init_binary(spec: ContainerSpec) -> str:
    if not spec.init:
        return ""
    return spec.init_binary or find_init_binary(spec.subject)


def find_init_binary(subject: str) -> str:
    for path in TINI_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    raise ContainerError(
        f"{subject}: init: no tini-static found ({', '.join(TINI_CANDIDATES)})",
        hint="apt-get install tini",
    )


class _Zygote:
    """The fork server process and its control socket."""

    def __init__(self, python: str) -> None:
        self.python = python
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.ctl: socket.socket | None = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        # errors travel over the sync sockets; stray output would garble `up`'s terminal
        stderr = None if os.environ.get("PYCOMPOSE_DEBUG") else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [self.python, "-m", "compose.runtime.zygote", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            close_fds=True,
            start_new_session=True,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        theirs.close()
        self.ctl = ours

    def ensure(self) -> None:
        with self.lock:
            if self.proc is None or self.ctl is None or self.proc.poll() is not None:
                self._start()

    def send(self, req: dict[str, Any], fds: list[int]) -> None:
        """Hand a request (+ fds) to the zygote; a dead zygote is restarted once."""
        payload = json.dumps(req).encode()
        for attempt in (1, 2):
            self.ensure()
            try:
                with self.lock:
                    assert self.ctl is not None
                    socket.send_fds(self.ctl, [payload], fds)
                return
            except OSError as err:
                if attempt == 2 or err.errno not in GONE:
                    raise ContainerError(f"runtime: zygote: {err.strerror or err}") from err
                log.warning("runtime zygote unreachable (%s); restarting it", err)
                self._discard()

    def _discard(self) -> None:
        with self.lock:
            if self.ctl is not None:
                self.ctl.close()
                self.ctl = None
            if self.proc is not None:
                with contextlib.suppress(OSError):
                    self.proc.kill()
                self.proc.wait()
                self.proc = None

    def close(self) -> None:
        with self.lock:
            if self.ctl is not None:
                self.ctl.close()
                self.ctl = None
            if self.proc is not None:
                self.proc.wait(timeout=5)
                self.proc = None


class LinuxRuntime:
    """Creates real containers. ``close()`` stops the zygote (containers keep running)."""

    def __init__(
        self,
        cgroup_driver: cgroups.CgroupDriver | None = None,
        python: str = sys.executable,
        *,
        single_threaded: bool = False,
    ) -> None:
        """``single_threaded``: the caller has no threads and runs one exec (the CLI), so exec
        helpers are forked from it (``execfast.ForkHere``) rather than by the zygote."""
        self.cgroups = cgroup_driver or cgroups.detect()
        self._zygote = _Zygote(python)
        self._single_threaded = single_threaded
        self._pending: dict[str, socket.socket] = {}
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start the zygote now instead of on the first create."""
        self._zygote.ensure()

    def close(self) -> None:
        for sock in self._pending.values():
            sock.close()
        self._pending.clear()
        self._zygote.close()

    # -- create / start -------------------------------------------------------------------
    def _request(self, spec: ContainerSpec) -> dict[str, Any]:
        return {
            "op": "create",
            # the whole spec is in <replica_dir>/spec.json (no message size limit); the monitor
            # and the zygote only need these few fields
            "spec_file": str(spec.replica_dir / "spec.json"),
            "spec": {
                "replica_dir": str(spec.replica_dir),
                "tty": spec.tty,
                "stdin_open": spec.stdin_open,
                "pid_mode": spec.pid_mode,
            },
            "log_path": str(spec.log_file),
            "log_rotate": [spec.log_max_size, spec.log_max_files] if spec.log_max_size else None,
            "cgroup_procs": self.cgroups.procs_files(spec.cgroup_path),
            "oom_file": self.cgroups.oom_file(spec.cgroup_path),
            "etc_files": [[t, str(s)] for t, s in etcfiles.ensure_etc_files(spec)],
            "init_binary": _init_binary(spec),
        }

    def _prepare(self, spec: ContainerSpec) -> None:
        spec.replica_dir.mkdir(parents=True, exist_ok=True)
        spec.replica_dir.chmod(0o700)  # the spec holds the environment; upper/ setuid files
        # the overlay's root takes the upper dir's mode: Docker's 0755, whatever the umask
        for d, mode in ((spec.upper_dir, 0o755), (spec.work_dir, 0o700), (spec.rootfs_dir, 0o755)):
            d.mkdir(exist_ok=True)
            d.chmod(mode)
        with contextlib.suppress(FileNotFoundError):
            (spec.replica_dir / "exit.json").unlink()
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        write_private(spec.replica_dir / "spec.json", json.dumps(spec.to_dict()))
        try:
            self.cgroups.create(spec.cgroup_path, spec.limits, spec.privileged)
        except cgroups.CgroupError as err:
            raise ContainerError(f"{spec.subject}: {err}") from err

    def create(
        self, spec: ContainerSpec, stdio: tuple[int, int, int] | None = None
    ) -> ContainerHandle:
        """Set the container up to the point of exec; it waits for ``start``.
        On any failure nothing is left behind (dirs, cgroup, processes).
        ``stdio``: attach the caller's (stdin, stdout, stderr) instead of logging (``run``):
        they become the container's stdio, or with ``spec.tty`` are relayed to its pty."""
        validate_spec(spec)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._prepare(spec)
            self._zygote.send(self._request(spec), [theirs.fileno(), *(stdio or ())])
            theirs.close()
            handle = self._await_ready(spec, ours)
        except BaseException:
            theirs.close()
            ours.close()
            self._cleanup_failed(spec)
            raise
        with self._lock:
            self._pending[handle.id] = ours
        return handle

    def _await_ready(self, spec: ContainerSpec, sock: socket.socket) -> ContainerHandle:
        sock.settimeout(CREATE_TIMEOUT)
        info: dict[str, Any] = {}
        ready = False
        while not (ready and info):
            msg = syncproto.recv(sock)
            if msg is None or msg["t"] == "error":
                self._drain_failed(sock, info)
                if msg is None:
                    raise ContainerError(f"{spec.subject}: init: exited before it was ready")
                raise ContainerStepError(spec.subject, msg["step"], msg["errno"], msg["message"])
            if msg["t"] == "pid":
                info = msg
            if msg["t"] == "ready":
                ready = True
                log.debug("%s: init step timings (ms): %s", spec.subject, msg.get("timings"))
        return self._handle(spec, info)

    @staticmethod
    def _drain_failed(sock: socket.socket, info: dict[str, Any]) -> None:
        """After an error: read to EOF (the init is gone), then wait for the monitor to exit."""
        with contextlib.suppress(OSError):
            while (msg := syncproto.recv(sock)) is not None:
                info.update(msg if msg["t"] == "pid" else {})
        if info:
            with contextlib.suppress(TimeoutError):
                _wait_pid_gone(info["monitor_pid"], info["monitor_start_time"], 10)

    @staticmethod
    def _handle(spec: ContainerSpec, info: dict[str, Any]) -> ContainerHandle:
        return ContainerHandle(
            id=spec.id,
            pid=info["pid"],
            start_time=info["start_time"],
            monitor_pid=info["monitor_pid"],
            monitor_start_time=info["monitor_start_time"],
            replica_dir=spec.replica_dir,
            cgroup_path=spec.cgroup_path,
            log_path=spec.log_file,
            service=spec.service,
            replica=spec.replica,
            stop_signal=spec.stop_signal,
            stop_grace_period=spec.stop_grace_period,
        )

    def _cleanup_failed(self, spec: ContainerSpec) -> None:
        with contextlib.suppress(Exception):
            self.cgroups.kill_all(spec.cgroup_path)
            self.cgroups.remove(spec.cgroup_path, timeout=5)
        shutil.rmtree(spec.replica_dir, ignore_errors=True)

    def start(self, handle: ContainerHandle) -> None:
        with self._lock:
            sock = self._pending.pop(handle.id, None)
        if sock is None:
            raise ContainerError(f"{handle.subject}: start: container is not in the created state")
        try:
            syncproto.send(sock, "go")
            msg = syncproto.recv(sock)
        finally:
            sock.close()
        if msg and msg.get("t") == "error":
            raise ContainerStepError(handle.subject, msg["step"], msg["errno"], msg["message"])

    def run(self, spec: ContainerSpec) -> ContainerHandle:
        handle = self.create(spec)
        self.start(handle)
        return handle

    # -- lifecycle ------------------------------------------------------------------------
    def is_alive(self, pid: int, start_time: int | None) -> bool:
        return is_alive(pid, start_time)

    def state(self, handle: ContainerHandle) -> str:
        """created | running | paused | exited (from this runtime, /proc and the cgroup)."""
        if handle.id in self._pending:
            return "created"
        if not is_alive(handle.pid, handle.start_time):
            return "exited"
        if self.cgroups.exists(handle.cgroup_path) and self.cgroups.frozen(handle.cgroup_path):
            return "paused"
        return "running"

    def _read_exit(self, handle: ContainerHandle) -> ExitStatus | None:
        try:
            doc = json.loads((handle.replica_dir / "exit.json").read_text())
        except (OSError, ValueError):
            return None
        return ExitStatus(doc["code"], doc.get("signal"), bool(doc.get("oom_killed")))

    def wait(self, handle: ContainerHandle, timeout: float | None = None) -> ExitStatus:
        """Block until the container has exited; ``TimeoutError`` after ``timeout`` seconds."""
        status = self._read_exit(handle)
        if status is not None:
            return status
        _wait_pid_gone(handle.monitor_pid, handle.monitor_start_time, timeout)
        return self._read_exit(handle) or ExitStatus(code=None)

    def kill(self, handle: ContainerHandle, signal: int = _signal.SIGKILL) -> None:
        _signal_pid(handle.pid, handle.start_time, signal)

    def stop(
        self, handle: ContainerHandle, signal: int | None = None, timeout: float | None = None
    ) -> int | None:
        """``stop_signal``, wait ``stop_grace_period``, then SIGKILL everything; the exit code."""
        grace = handle.stop_grace_period if timeout is None else timeout
        if is_alive(handle.pid, handle.start_time):
            if self.cgroups.exists(handle.cgroup_path):
                self.cgroups.thaw(handle.cgroup_path)  # a paused container can't handle signals
            _signal_pid(handle.pid, handle.start_time, signal or handle.stop_signal)
            try:
                return self.wait(handle, grace).code
            except TimeoutError:
                self._kill_everything(handle)
        return self.wait(handle, 10).code

    def _kill_everything(self, handle: ContainerHandle) -> None:
        _signal_pid(handle.pid, handle.start_time, _signal.SIGKILL)
        if self.cgroups.exists(handle.cgroup_path):
            self.cgroups.kill_all(handle.cgroup_path)

    def remove(self, handle: ContainerHandle) -> None:
        """Kill if running, wait for the monitor, remove the cgroup and the replica dir."""
        with self._lock:
            pending = self._pending.pop(handle.id, None)
        if pending is not None:
            pending.close()  # the init sees EOF and exits
        if is_alive(handle.pid, handle.start_time):
            self._kill_everything(handle)
        with contextlib.suppress(TimeoutError):
            _wait_pid_gone(handle.monitor_pid, handle.monitor_start_time, 10)
        if self.cgroups.exists(handle.cgroup_path):
            self.cgroups.kill_all(handle.cgroup_path)
            self.cgroups.remove(handle.cgroup_path)
        shutil.rmtree(handle.replica_dir, ignore_errors=True)

    def pause(self, handle: ContainerHandle) -> None:
        self.cgroups.freeze(handle.cgroup_path)

    def unpause(self, handle: ContainerHandle) -> None:
        self.cgroups.thaw(handle.cgroup_path)

    def stats(self, handle: ContainerHandle) -> cgroups.CgroupStats:
        return self.cgroups.stats(handle.cgroup_path)

    # -- exec -----------------------------------------------------------------------------
    def exec_process(
        self,
        handle: ContainerHandle,
        argv: list[str],
        env: list[str] | None = None,
        user: str | None = None,
        workdir: str | None = None,
        tty: bool = False,
        **popen: Any,
    ) -> Any:
        """A ``subprocess.Popen`` when pipes are asked for, else a zygote-forked
        ``execfast.ExecProcess`` (same pid/wait/poll/kill/returncode surface, no interpreter
        start)."""
        from compose.runtime import execfast, nsexec

        if execfast.wants_popen(popen):
            return nsexec.spawn(
                self, handle, argv, env=env, user=user, workdir=workdir, tty=tty, **popen
            )
        req = nsexec.exec_request(self, handle, argv, env=env, user=user, workdir=workdir, tty=tty)
        forker = execfast.ForkHere() if self._single_threaded else self._zygote
        return execfast.spawn(forker, req, popen)

    def exec(
        self,
        handle: ContainerHandle,
        argv: list[str],
        env: list[str] | None = None,
        user: str | None = None,
        workdir: str | None = None,
        tty: bool = False,
        **popen: Any,
    ) -> int:
        """Run to completion; Ctrl-C in the caller is passed on as SIGINT (the helper lives in
        its own session, so the terminal's signal would not reach it)."""
        proc = self.exec_process(
            handle, argv, env=env, user=user, workdir=workdir, tty=tty, **popen
        )
        try:
            return int(proc.wait())
        except KeyboardInterrupt:
            proc.send_signal(_signal.SIGINT)
            try:
                return int(proc.wait(10))
            except subprocess.TimeoutExpired:
                proc.kill()
                return int(proc.wait())


def _pidfd(pid: int, start_time: int | None) -> int | None:
    """A pidfd for pid if it is still the same process (start time), else None."""
    try:
        fd = os.pidfd_open(pid)
    except (ProcessLookupError, OSError):
        return None
    if is_alive(pid, start_time):
        return fd
    os.close(fd)
    return None


def _signal_pid(pid: int, start_time: int, sig: int) -> None:
    fd = _pidfd(pid, start_time)
    if fd is None:
        return
    try:
        _signal.pidfd_send_signal(fd, sig)
    except ProcessLookupError:
        pass
    finally:
        os.close(fd)


def _wait_pid_gone(pid: int, start_time: int | None, timeout: float | None) -> None:
    fd = _pidfd(pid, start_time)
    if fd is None:
        return
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    if not ready:
        raise TimeoutError(f"process {pid} still running after {timeout}s")
