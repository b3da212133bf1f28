"""The only async package (anyio): runs plans and keeps a project's replicas as declared.

- ``core.Supervisor``: executor + exit watchers + health monitors + keyed reconcile loop;
- ``executor.Executor``: a Plan over the dependency graph (conditions, failures, teardown);
- ``conditions``: service_started / service_healthy / service_completed_successfully;
- ``health``: Docker healthcheck semantics; ``restart``: Docker restart policies (pure);
- ``workqueue``: keyed queue with per-key backoff; ``tracker``: in-memory replica states;
- ``blocking.run_sync``: the only door to blocking code;
- ``driver.Driver``: the protocol the real machine (``linux.LinuxDriver``) and fakes implement.
"""

from compose.supervisor.core import Supervisor
from compose.supervisor.executor import Executor, Outcome
from compose.supervisor.health import HealthSpec
from compose.supervisor.restart import RestartPolicy, next_backoff, should_restart
from compose.supervisor.tracker import ReplicaState, Tracker

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
