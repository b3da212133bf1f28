"""The only async package (anyio): runs plans and keeps a project's replicas as declared.

Pure-ish logic (unit-tested with ``tests/unit/supervisor/supervisor_fakes.FakeDriver``):

- ``core.Supervisor``: executor + exit watchers + health monitors + a keyed reconcile loop.
  Events (an exit seen by ``driver.wait_exit`` — pidfd + ``anyio.wait_readable`` —, a health
  change, an API request, a timer) only ``queue.add(service)``; ``reconcile(service)`` looks at
  the tracker and acts: restart policies (``restart``: Docker's decisions and backoff 0.1 s
  doubling to 60 s, reset after 10 s up; ``deploy.restart_policy`` condition/max_attempts
  override ``restart``; its delay and window apply as in swarm, which docker compose ignores),
  then the
  replica count ``desired`` (set by each plan's ``Plan.replicas`` and by ``scale``) through
  ``replicaset`` (expectations, lowest free index up, highest index down, slow-start batches).
  4 workers, a periodic 30 s resync; transient errors requeue with per-key backoff, terminal
  ones (UserError, ImageError) mark the service failed (``failed.json``: ``ps``; event
  ``failed``). Health transitions are events (``health_status: …``); an ``unhealthy`` replica is
  reported, not restarted: Docker does the same, ``depends_on: service_healthy`` and
  ``up --wait`` rely on it, and killing a replica that is slow (not dead) would turn a slow
  recovery into a crash loop. Config-hash changes are handled by ``up``'s plan (recreations
  roll one replica at a time, start-first where two copies can coexist: the successor runs
  under a staging name, the old one is drained, stopped, removed, and the successor renamed),
  not by the loop: a running supervisor learns a new file through ``up`` (as docker compose:
  an edit is applied when the user says so, never half-way through their typing).
- ``scaling``: the ``scale`` API request and its checks (``container_name`` with N > 1).
- ``executor.Executor``: a Plan over the dependency graph (conditions, every failure collected,
  dependents of failures not started, teardown); ``apply(action)`` is reusable by reconcile.
- ``conditions``: service_started / service_healthy / service_completed_successfully;
- ``health``: Docker healthcheck semantics; ``healthspec``: compose healthcheck over the image's;
- ``restart``: restart policies (pure); ``workqueue``: keyed queue with per-key backoff;
- ``tracker``: in-memory replica states (``wait_for(predicate)``), persisted by ``on_change``;
- ``blocking.run_sync``: the only door to blocking code (one CapacityLimiter per loop).

The machine (root):

- ``driver.Driver``: the protocol; ``linux.LinuxDriver`` implements it over images, volumes,
  netplug and the runtime; ``replica``: one replica's synchronous lifecycle (create with
  rollback, start/publish, stop, restart keeping the writable layer, remove, /etc/hosts);
- ``netservices``: embedded DNS + loopback port proxy following the running replicas;
- ``run``: ``run_up`` = lock → images → plan → Supervisor → apply → (--wait) → foreground
  (``foreground``: logs, Ctrl-C, abort/exit-code-from) or detached; both serve ``handlers``
  behind the unix-socket ``api`` (status, apply, down, stop/start/restart/kill, rm, scale,
  shutdown), so the other commands act through whichever supervisor runs the project;
- ``__main__``: ``python -m compose.supervisor``, the detached supervisor ``up -d`` starts.
"""

from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"compose.supervisor.{_LAZY[name]}"), name)
    raise AttributeError(name)


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
