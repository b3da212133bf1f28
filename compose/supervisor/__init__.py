"""The supervisor: the process that runs a project (the only async package, anyio).

Three families::

    process and API   run (run_up), service (SupervisorService: one method per request),
                      protocol (requests/replies), api (the socket), foreground, oneoff,
                      __main__ (the detached supervisor), options
    the loop          core (Supervisor: executor + watchers + keyed reconcile), executor,
                      workqueue, tracker, replicaset, restart, health, healthspec, conditions,
                      blocking (the one door to blocking code); it reaches the machine only
                      through driver.Driver
    the machine       machine/ (LinuxDriver and its owners: networks, replicas, traffic, ...)

The walk of ``pycompose up -d`` (a two-service stack, no supervisor running yet), each module
once, in one direction::

    cli/__init__.py              main(): the one exit point; click runs the `up` command
    cli/commands/up.py           flags → UpOptions + RunOptions → ProjectClient.up
    project/client.py            a supervisor listens? Apply over its socket; none: launch one
    project/detached.py          `python -m compose.supervisor`, the Launch on its stdin
    supervisor/__main__.py       decode the Launch, load the stack (compose.model) → run_up
    supervisor/run.py            lock, LinuxDriver, NetServices, Supervisor, serve the API
    supervisor/service.py        converge: pull images, desired + observed → plan → apply
    planner/stack.py, planner.py Stack → DesiredProject; desired + observed records → Plan
    supervisor/core.py           Supervisor.apply: the plan's counts are what the loop keeps
    supervisor/executor.py       setup, then each service's step once its waits hold
    supervisor/machine/linux.py  Driver verbs: ensure_network → Networks, create/start → Replicas
    supervisor/machine/replicas.py  record → netns → attach → /etc → mounts → spec → create
    netplug/plugin.py            attach: IPAM address, veth pair into the netns (rolled back)
    runtime/launcher.py          create: zygote → monitor → init, waits for GO; start sends GO
    supervisor/machine/traffic.py after the start: DNAT, DNS and proxy, every /etc/hosts

Invariants are stated where they are kept: core.py (the loop), executor.py (plans),
workqueue.py (keys), machine/replicas.py (crash ordering), state/ (records and the lock).
"""

from typing import TYPE_CHECKING

from compose import lazy

if TYPE_CHECKING:
    from compose.supervisor.core import Supervisor
    from compose.supervisor.executor import Executor, Outcome
    from compose.supervisor.health import HealthSpec
    from compose.supervisor.restart import RestartPolicy, next_backoff, should_restart
    from compose.supervisor.tracker import ReplicaState, Tracker

# Imported on first use: the CLI reaches ``api`` and ``options`` without paying for anyio and
# the loop (``up -d``, ``down``, ``ps`` start faster).
_LAZY = {
    "Supervisor": "core",
    "Executor": "executor",
    "Outcome": "executor",
    "HealthSpec": "health",
    "RestartPolicy": "restart",
    "next_backoff": "restart",
    "should_restart": "restart",
    "ReplicaState": "tracker",
    "Tracker": "tracker",
}


__getattr__ = lazy.attributes(__name__, _LAZY)


__all__ = [
    "Executor",
    "HealthSpec",
    "Outcome",
    "ReplicaState",
    "RestartPolicy",
    "Supervisor",
    "Tracker",
    "next_backoff",
    "should_restart",
]
