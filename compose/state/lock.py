"""The per-project lock: an flock on ``<run>/projects/<project>/lock``.

The acting process (a foreground ``up``, a detached supervisor, or a ``down`` with no supervisor)
holds it for as long as it changes the project. The kernel drops it when the holder dies, so a
crashed supervisor never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time

from compose.errors import ProjectLockedError
from compose.state.layout import lock_path


class ProjectLock:
    def __init__(self, project: str) -> None:
        self.project = project
        self.path = lock_path(project)
        self._fd: int | None = None

    def acquire(self, timeout: float = 0.0) -> ProjectLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + timeout
        while not _try_flock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                raise ProjectLockedError(
                    f'project "{self.project}": another pycompose process is acting on it',
                    hint="wait for it, or run `pycompose down` to stop its supervisor",
                )
            time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> ProjectLock:
        return self if self.held else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def is_locked(project: str) -> bool:
    """True when some process holds the project's lock (probe, never blocks)."""
    path = lock_path(project)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _try_flock(fd):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        return True
    finally:
        os.close(fd)


def lock_holder_pid(project: str) -> int | None:
    try:
        text = lock_path(project).read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() and is_locked(project) else None
