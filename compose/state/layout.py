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
    <run>/projects/<p>/supervisor.sock          the project's supervisor API
    <run>/projects/<p>/supervisor.log           the detached supervisor's stderr
    <run>/supervisor-start.log                  a detached supervisor's stderr before that
"""

from __future__ import annotations

from pathlib import Path

from compose import paths


def project_dir(project: str) -> Path:
    return paths.project_state_dir(project)


def projects_dir() -> Path:
    return paths.state_dir() / "projects"


def log_path(project: str, name: str) -> Path:
    """Outside the replica dir: the log survives the replica's restarts and recreations."""
    return paths.child(project_dir(project) / "logs", name, ".log")


def replica_dir(project: str, name: str) -> Path:
    return paths.child(project_dir(project) / "containers", name)


def failures_path(project: str) -> Path:
    return project_dir(project) / "failed.json"


def events_path(project: str) -> Path:
    return project_dir(project) / "events.jsonl"


def run_dir(project: str) -> Path:
    return paths.project_run_dir(project)


def lock_path(project: str) -> Path:
    return run_dir(project) / "lock"


def socket_path(project: str) -> Path:
    return run_dir(project) / "supervisor.sock"


def listening_sockets() -> list[Path]:
    """Every project's supervisor socket that exists (one glob; no record is read)."""
    return list((paths.run_dir() / "projects").glob("*/supervisor.sock"))


def supervisor_log(project: str) -> Path:
    return run_dir(project) / "supervisor.log"


def start_log() -> Path:
    return paths.run_dir() / "supervisor-start.log"
