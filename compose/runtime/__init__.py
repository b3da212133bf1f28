"""compose.runtime: one container, made by pycompose itself (namespaces, cgroups, overlay).

Public API (the orchestrator uses only these)::

    ContainerSpec, Mount, Limits, Ulimit        frozen data (compose.runtime.spec)
    ContainerHandle, ExitStatus                 what create/wait return; handles round-trip JSON
    spec_from_service(...)                      Docker's argv/env/user/workdir rules
    Runtime                                     the Protocol below
    LinuxRuntime()                              the real one (root)
    ContainerStepError                          ContainerError naming the failed init step

    class Runtime(Protocol):
        create(spec, stdio=None) -> ContainerHandle   set up to "wait for GO" (pid + start_time
                                                 known); stdio: attach a client (run)
        start(handle) -> None                    GO → execve; raises on exec failure (exit 127)
        run(spec) -> ContainerHandle             create + start
        stop(handle, signal=None, timeout=None) -> int | None
        kill(handle, signal) -> None
        wait(handle, timeout=None) -> ExitStatus (TimeoutError after timeout)
        remove(handle) -> None                   idempotent: processes, cgroup, replica dir
        exec(handle, argv, env, user, workdir, tty, **popen) -> int
        exec_process(...) -> Popen-like          same, not waited (healthchecks): a zygote-forked
                                                 ExecProcess (~6 ms) unless pipes are asked for,
                                                 then a real subprocess.Popen (~80 ms)
        state(handle) -> "created"|"running"|"paused"|"exited"
        is_alive(pid, start_time) -> bool
        pause(handle) / unpause(handle) / stats(handle) -> CgroupStats

For the orchestrator:
- ``network_mode/pid/ipc: service:x`` → pass the lowest replica's ``/proc/<pid>/ns/{net,pid,ipc}``
  as ``netns_path`` / ``pid_mode`` / ``ipc_mode`` (``supervisor.machine.spec`` maps ``host``);
- ``stdin_open``: write into ``<replica_dir>/stdin`` (a fifo) to feed the container;
- ``remove`` deletes the replica dir, so keep ``log_path`` outside it if logs must survive;
- a handle round-trips through ``to_dict``/``from_dict``; any process can stop/wait/remove it,
  but only the runtime that ran ``create`` can ``start`` it.

Process tree (see zygote.py, spare.py, monitor.py, init.py, syncproto.py)::

    supervisor (threads) ── zygote (single-threaded, forked per create: nothing)
                             └─ pyc-monitor B (setsid; log copier; writes exit.json)
                                 └─ container PID 1 (was pyc-init C: namespaces, mounts, exec)

Containers outlive the supervisor and the zygote: logs go to files, the exit status to
<replica_dir>/exit.json, identity is pid + start time. If the zygote dies, monitors are
reparented (to the supervisor when it is a subreaper: it must then reap them).

Imports stay light (no pydantic, no anyio): the zygote imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compose import lazy
from compose.runtime.spec import ContainerHandle, ContainerSpec, ExitStatus, Limits, Mount, Ulimit

if TYPE_CHECKING:
    from compose.runtime.launcher import ContainerStepError, LinuxRuntime
    from compose.runtime.protocol import Runtime
    from compose.runtime.service import spec_from_service

__all__ = [
    "ContainerHandle",
    "ContainerSpec",
    "ContainerStepError",
    "ExitStatus",
    "Limits",
    "LinuxRuntime",
    "Mount",
    "Runtime",
    "Ulimit",
    "spec_from_service",
]

_LAZY = {  # imported on first use: `exec` needs the launcher, not Docker's spec rules
    "spec_from_service": "compose.runtime.service",
    "LinuxRuntime": "compose.runtime.launcher",
    "ContainerStepError": "compose.runtime.launcher",
    "Runtime": "compose.runtime.protocol",
}


__getattr__ = lazy.attributes(__name__, _LAZY)
