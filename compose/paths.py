"""Every directory pycompose writes to. Tests point them at tmp dirs via the environment.

- ``PYCOMPOSE_STATE_DIR`` (default ``/var/lib/pycompose``): images, volumes, IPAM, records.
- ``PYCOMPOSE_RUN_DIR``   (default ``/run/pycompose``): pids, sockets, locks, netns files.
- ``PYCOMPOSE_CONFIG_DIR`` (default ``/etc/pycompose``): daemon.json-like settings.
- ``PYCOMPOSE_CACHE_DIR`` (default ``<state dir>/cache`` as root, else ``~/.cache/pycompose``):
  results that are only kept to be faster (``compose.model.memo``).
- ``PYCOMPOSE_CGROUP_ROOT`` (default ``pycompose``): the cgroup under which every project's
  replicas live (``<root>/<project>/<container>``), in each hierarchy.

Modes (README, "Files and their modes"): the state and run dirs are 0700, so no other user
reaches anything below them (a setuid binary in an upper dir or a volume, a container's
environment in ``spec.json``, the supervisor socket). ``private_umask()`` (the CLI and the
supervisor call it first) makes everything else pycompose creates 0700/0600 whatever the
caller's umask; files a container must read (its /etc files, a volume's ``_data``, a created
bind source) get their mode explicitly, and the container's processes get Docker's umask 0022.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_UMASK = 0o077
_user_umask: int | None = None


def private_umask() -> None:
    """Make what this process creates private (0700 dirs, 0600 files) and tighten the state and
    run dirs that already exist; files the user asks for keep the user's umask (``user_umask``).
    Idempotent."""
    global _user_umask
    previous = os.umask(PRIVATE_UMASK)
    if _user_umask is None:
        _user_umask = previous
    for root in (state_dir(), run_dir()):
        _tighten(root)


def user_umask() -> int:
    """The umask this process was started with (before ``private_umask``)."""
    if _user_umask is not None:
        return _user_umask
    current = os.umask(0o022)
    os.umask(current)
    return current


@contextlib.contextmanager
def users_umask() -> Iterator[None]:
    """Files the user asked for (``config -o``, ``kube convert -o``) get the user's umask, not
    the private one (single-threaded callers: the umask is the process's)."""
    previous = os.umask(user_umask())
    try:
        yield
    finally:
        os.umask(previous)


def _tighten(root: Path) -> None:
    try:
        st = root.stat()
    except OSError:
        return
    if st.st_uid == os.geteuid() and st.st_mode & 0o7777 != PRIVATE_DIR:
        root.chmod(PRIVATE_DIR)


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


def mountpoints_dir() -> Path:
    """Shared read-only lower layers holding the files the /etc binds mount on."""
    return state_dir() / "mountpoints"


def ipam_dir() -> Path:
    return state_dir() / "ipam"


def project_state_dir(project: str) -> Path:
    """Unchecked: ``compose.state.layout.project_dir`` checks the name."""
    return state_dir() / "projects" / project


def project_run_dir(project: str) -> Path:
    return run_dir() / "projects" / project


def cgroup_root() -> str:
    return os.environ.get("PYCOMPOSE_CGROUP_ROOT", "pycompose").strip("/")


def project_cgroup(project: str) -> str:
    return f"{cgroup_root()}/{project}"
