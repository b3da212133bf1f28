"""One identity record per test stack, and everything named from it.

    StackIdentity(base, run_id, worker, owner_pid, owner_start, config_hash)
        .project   <base>-<config hash 6>-<run 6>-<worker>     e.g. shop-3fa2c1-9b1d0e-gw1
        .labels    io.pycompose.test.{run,worker,config} + the owner's (compose.state.owner)
        .owner     the reaper's Owner (the supervisor downs the stack when it dies)

The run id is xdist's ``testrun_uid`` when there is one (every worker of one ``pytest -n 4``
shares it), else one token per process; the worker is xdist's ``gw0``… or ``main``. So parallel
workers, parallel CI jobs on one host and two suites in one checkout never share a project, and
a project name says whose it is. The config hash keeps two stacks of one suite apart (two files
in one directory have the same base name) and changes when the files or the environment do.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from compose.procfs import process_start_time
from compose.stackfile.discovery import normalize_project_name
from compose.state import owner as owner_labels

RUN = "io.pycompose.test.run"
WORKER = "io.pycompose.test.worker"
CONFIG = "io.pycompose.test.config"
BASE_MAX = 20  # characters of the stack's own name kept in the project name
RUN_ENV = "PYCOMPOSE_TEST_RUN"  # a run id handed down (set by the pytest plugin)
_PROCESS_RUN = secrets.token_hex(6)


@dataclass(frozen=True)
class StackIdentity:
    base: str  # the stack's own name (``name:``, the directory) or the one asked for
    run_id: str
    worker: str
    owner_pid: int
    owner_start: int | None
    config_hash: str
    owner_name: str = ""  # for people: "pytest gw1"

    @property
    def project(self) -> str:
        """Short enough for the paths named after it (a unix socket's is 107 bytes at most)."""
        base = self.base[:BASE_MAX].rstrip("_-")
        name = f"{base}-{self.config_hash[:6]}-{self.run_id[:6]}-{self.worker}"
        return normalize_project_name(name) or f"stack-{self.config_hash[:6]}"

    @property
    def labels(self) -> dict[str, str]:
        return {
            RUN: self.run_id,
            WORKER: self.worker,
            CONFIG: self.config_hash,
            **owner_labels.owner_labels(self.owner_pid, self.owner_start, self.owner_name),
        }


def current_run() -> str:
    """xdist's run id (shared by the workers of one run), a handed-down one, or this process'."""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID") or os.environ.get(RUN_ENV) or _PROCESS_RUN


def current_worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER") or "main"


def config_hash(
    files: Sequence[Path], env: Mapping[str, str], profiles: Sequence[str], env_file: Path | None
) -> str:
    """Of what decides the stack: the files' contents, the variables given, profiles, env file."""
    digest = hashlib.sha256()
    for path in [*files, *([env_file] if env_file else [])]:
        digest.update(str(path).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"(missing)")
    for key in sorted(env):
        digest.update(f"{key}={env[key]}\0".encode())
    digest.update(",".join(profiles).encode())
    return digest.hexdigest()[:16]


def identity(
    base: str,
    files: Sequence[Path],
    env: Mapping[str, str],
    profiles: Sequence[str],
    env_file: Path | None,
    run_id: str | None = None,
    worker: str | None = None,
) -> StackIdentity:
    """The identity of a stack owned by this process."""
    worker = worker or current_worker()
    pid = os.getpid()
    return StackIdentity(
        normalize_project_name(base) or "stack",
        run_id or current_run(),
        worker,
        pid,
        process_start_time(pid),
        config_hash(files, env, profiles, env_file),
        _program(worker),
    )


def _program(worker: str) -> str:
    """What the owner is, for `ls`: ``pytest gw1``, ``python``."""
    import sys

    program = "pytest" if "pytest" in sys.modules else Path(sys.argv[0] or "python").name
    return program if worker == "main" else f"{program} {worker}"
