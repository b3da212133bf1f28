"""Orphans of dead owners: test stacks whose owner process is gone and whose supervisor did
not bring them down (it was killed with them, or the host rebooted). The next test session
sweeps them before its first stack goes up; ``pycompose ls`` shows each project's owner.

A kept stack (``--pycompose-keep``) has no owner and is never swept.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from compose.errors import PycomposeError

if TYPE_CHECKING:
    from compose.project import ProjectClient

log = logging.getLogger(__name__)
_DONE = threading.Event()
_LOCK = threading.Lock()


def orphans() -> list[tuple[str, tuple[str, ...]]]:
    """(project, its config files) of every project whose recorded owner is dead."""
    from compose.state import StateStore, list_projects
    from compose.state.owner import orphaned

    found = []
    for name in list_projects():
        try:
            record = StateStore(name).load_project()
        except PycomposeError:
            continue
        if record is not None and orphaned(record.labels):
            found.append((name, record.config_files))
    return found


def sweep() -> list[str]:
    """`down -v` each orphan; the projects swept (one that fails is logged and left)."""
    from compose.project import LoadOptions, ProjectClient

    swept = []
    for name, files in orphans():
        client = ProjectClient(LoadOptions(files=files, project_name=name), name=name)
        try:
            _down(client)
        except (PycomposeError, OSError) as exc:
            log.warning('sweeping the orphaned project "%s" failed: %s', name, exc)
            continue
        swept.append(name)
    return swept


def _down(client: ProjectClient) -> None:
    """`down -v`; once more when the supervisor it reached ended before it replied (one that
    saw its owner die tears the project down and exits): then nothing listens, so the second
    one acts in this process, or reaches a supervisor that does answer."""
    from compose.project import DownOptions

    options = DownOptions(remove_volumes=True, remove_orphans=True)
    try:
        client.down(options, timeout=1.0)
    except (ConnectionResetError, BrokenPipeError):
        time.sleep(0.2)
        client.down(options, timeout=1.0)


def sweep_once() -> list[str]:
    """``sweep`` the first time a stack goes up in this process."""
    with _LOCK:
        if _DONE.is_set():
            return []
        _DONE.set()
        return sweep()
