"""Project state on disk: the daemonless "API server".

Records are JSON files with a ``schema_version``; every write is atomic (tmp + fsync + rename),
so a reader never sees half a record and a crash loses at most the write in flight.

Layout (paths come from ``compose.paths``)::

    <state>/projects/<project>/project.json            ProjectRecord (networks, volumes, files)
    <state>/projects/<project>/replicas/<name>.json    ReplicaRecord, one per container
    <run>/projects/<project>/lock                      flock held by the acting process
    <run>/projects/<project>/supervisor.sock           the detached supervisor's API

Invariants:
- only the holder of the project lock writes records (readers never lock);
- a replica is alive iff its pid exists and /proc/<pid>/stat's start time equals the record's;
- ``observe_project`` never changes anything: it reports what is recorded plus liveness.
"""

from compose.procfs import is_alive, process_start_time
from compose.state.lock import ProjectLock, is_locked
from compose.state.observe import (
    ObservedProject,
    ObservedReplica,
    images_in_use,
    list_projects,
    observe_project,
)
from compose.state.records import (
    CREATED,
    EXITED,
    PAUSED,
    RUNNING,
    SCHEMA_VERSION,
    STATUSES,
    NetworkRecord,
    PortRecord,
    ProjectRecord,
    ReplicaRecord,
    command_line,
    container_name,
    new_container_id,
    staged_for,
    staging_name,
)
from compose.state.store import StateStore

__all__ = [
    "CREATED",
    "EXITED",
    "PAUSED",
    "RUNNING",
    "SCHEMA_VERSION",
    "STATUSES",
    "NetworkRecord",
    "ObservedProject",
    "ObservedReplica",
    "PortRecord",
    "ProjectLock",
    "ProjectRecord",
    "ReplicaRecord",
    "StateStore",
    "command_line",
    "container_name",
    "images_in_use",
    "is_alive",
    "is_locked",
    "list_projects",
    "new_container_id",
    "observe_project",
    "process_start_time",
    "staged_for",
    "staging_name",
]
