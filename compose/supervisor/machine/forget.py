"""After a full ``down``: the project's records, run dir and parent cgroup go (never volumes),
and cgroups a creator killed mid-``create`` left behind. Nothing happens while replicas are
still recorded."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from compose import paths
from compose.state import StateStore, layout

if TYPE_CHECKING:
    from compose.runtime.cgroups import CgroupDriver


def forget_project(project: str) -> None:
    store = StateStore(project)
    if store.replicas():
        return
    store.delete_project()
    shutil.rmtree(layout.run_dir(project), ignore_errors=True)
    with contextlib.suppress(Exception):
        from compose.runtime import cgroups

        driver = cgroups.detect()
        parent = paths.project_cgroup(project)
        for child in stale_cgroups(parent):  # a creator killed mid-create leaves one behind
            kill_and_remove_cgroup(driver, f"{parent}/{child}")
        if driver.exists(parent):
            driver.remove(parent, timeout=5)
        driver.remove_if_empty(paths.cgroup_root())  # the last project down leaves no trace


def kill_and_remove_cgroup(driver: CgroupDriver, path: str) -> None:
    """Also for a cgroup half made by a creator killed mid-``create`` (some controllers'
    directories missing: kill_all's freeze then fails, the rmdirs still work)."""
    with contextlib.suppress(Exception):
        driver.kill_all(path)
    with contextlib.suppress(Exception):
        driver.remove(path, timeout=5)


def stale_cgroups(parent: str, root: Path = Path("/sys/fs/cgroup")) -> set[str]:
    """Child cgroups of ``parent`` on any hierarchy (v1 controllers, v2 unified) — after a full
    `down` no replica is recorded, so every one left is stale."""
    found = {p.name for p in root.glob(f"*/{parent}/*") if p.is_dir()}
    return found | {p.name for p in root.glob(f"{parent}/*") if p.is_dir()}
