"""Where a project's files live: the one module that knows a path under the state and run dirs
(``compose.paths`` gives the two roots). Other packages ask here, or use ``StateStore`` and
``EventLog`` for the files' formats.

    <state>/projects/<p>/project.json           ProjectRecord                  (StateStore)
    <state>/projects/<p>/replicas/<name>.json   ReplicaRecord per container       (StateStore)
    <state>/projects/<p>/failed.json            services the loop gave up on      (StateStore)
    <state>/projects/<p>/events.jsonl           the supervisor's events, JSON lines (EventLog)
    <state>/projects/<p>/logs/<name>.log        a replica's output (kept across recreations)
    <state>/projects/<p>/containers/<name>/     a replica's dir: upper/work layers, /etc files
    <run>/projects/<p>/lock                     flock of the process acting on the project
    <run>/locks/<p>.teardown                    flock: a `down`, or a one-off being made
    <run>/locks/<p>.down                        when the last `down` was asked
    <run>/projects/<p>/supervisor.sock          the project's supervisor API
    <run>/projects/<p>/supervisor.log           the detached supervisor's stderr
    <run>/supervisor-start.log                  a detached supervisor's stderr before that
"""

from __future__ import annotations

from pathlib import Path

from compose import paths
from compose.errors import UserError
from compose.names import is_component


def child(base: Path, name: str, suffix: str = "") -> Path:
    """``base / (name + suffix)``, refusing a name that is not one safe path component: every
    path derived from a name in a stack file goes through here, so none can leave its base."""
    if not is_component(name) or not is_component(name + suffix):
        raise UserError(f"refusing {name!r} as a name: it must be one path component under {base}")
    return base / f"{name}{suffix}"


def project_dir(project: str) -> Path:
    return child(projects_dir(), project)


def projects_dir() -> Path:
    return paths.state_dir() / "projects"


def log_path(project: str, name: str) -> Path:
    """Outside the replica dir: the log survives the replica's restarts and recreations."""
    return child(project_dir(project) / "logs", name, ".log")


def replica_dir(project: str, name: str) -> Path:
    return child(project_dir(project) / "containers", name)


def volume_root(name: str) -> Path:
    """``<state>/volumes/<name>`` (a volume's ``_data`` and its ``initialized`` marker)."""
    return child(paths.volumes_dir(), name)


def files_dir(project: str, replica: str) -> Path:
    """Copies of a replica's secrets and configs that have their own uid/gid/mode."""
    return child(project_dir(project) / "files", replica)


def failures_path(project: str) -> Path:
    return project_dir(project) / "failed.json"


def events_path(project: str) -> Path:
    return project_dir(project) / "events.jsonl"


def run_dir(project: str) -> Path:
    return child(paths.run_dir() / "projects", project)


def lock_path(project: str) -> Path:
    return run_dir(project) / "lock"


def teardown_lock_path(project: str) -> Path:
    """Held by a `down` (from its look at the records until the networks are gone) and by a
    one-off's creation, which no supervisor serializes: `run` never makes a container, or the
    network for it, in the middle of a `down`. Outside the project's dirs, which `down` removes
    (a lock file unlinked while held would let a second holder in)."""
    return paths.run_dir() / "locks" / f"{project}.teardown"


def down_asked_path(project: str) -> Path:
    """Touched by a `down` as it begins: an `up` asked before it that gets the project lock
    only after it (its supervisor was still starting) does not start the project again."""
    return paths.run_dir() / "locks" / f"{project}.down"


def socket_path(project: str) -> Path:
    return run_dir(project) / "supervisor.sock"


def listening_sockets() -> list[Path]:
    """Every project's supervisor socket that exists (one glob; no record is read)."""
    return list((paths.run_dir() / "projects").glob("*/supervisor.sock"))


def supervisor_log(project: str) -> Path:
    return run_dir(project) / "supervisor.log"


def start_log() -> Path:
    return paths.run_dir() / "supervisor-start.log"
