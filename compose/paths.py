"""Every directory pycompose writes to. Tests point them at tmp dirs via the environment.

- ``PYCOMPOSE_STATE_DIR`` (default ``/var/lib/pycompose``): images, volumes, IPAM, records.
- ``PYCOMPOSE_RUN_DIR``   (default ``/run/pycompose``): pids, sockets, locks, netns files.
- ``PYCOMPOSE_CONFIG_DIR`` (default ``/etc/pycompose``): daemon.json-like settings.
- ``PYCOMPOSE_CACHE_DIR`` (default ``<state dir>/cache`` as root, else ``~/.cache/pycompose``):
  results that are only kept to be faster (``compose.model.memo``).
- ``PYCOMPOSE_CGROUP_ROOT`` (default ``pycompose``): the cgroup under which every project's
  replicas live (``<root>/<project>/<container>``), in each hierarchy.
"""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    return Path(os.environ.get("PYCOMPOSE_STATE_DIR", "/var/lib/pycompose"))


def run_dir() -> Path:
    return Path(os.environ.get("PYCOMPOSE_RUN_DIR", "/run/pycompose"))


def config_dir() -> Path:
    return Path(os.environ.get("PYCOMPOSE_CONFIG_DIR", "/etc/pycompose"))


def cache_dir() -> Path:
    if os.environ.get("PYCOMPOSE_CACHE_DIR"):
        return Path(os.environ["PYCOMPOSE_CACHE_DIR"])
    if os.geteuid() == 0 or "PYCOMPOSE_STATE_DIR" in os.environ:
        return state_dir() / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pycompose"


def images_dir() -> Path:
    return state_dir() / "images"


def volumes_dir() -> Path:
    return state_dir() / "volumes"


def ipam_dir() -> Path:
    return state_dir() / "ipam"


def project_state_dir(project: str) -> Path:
    return state_dir() / "projects" / project


def project_run_dir(project: str) -> Path:
    return run_dir() / "projects" / project


def cgroup_root() -> str:
    return os.environ.get("PYCOMPOSE_CGROUP_ROOT", "pycompose").strip("/")


def project_cgroup(project: str) -> str:
    return f"{cgroup_root()}/{project}"
