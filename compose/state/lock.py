"""The per-project lock: an flock on ``<run>/projects/<project>/lock``.

The acting process (a foreground ``up``, a detached supervisor, or a ``down`` with no supervisor)
holds it for as long as it changes the project. The kernel drops it when the holder dies, so a
crashed supervisor never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from compose.errors import ProjectLockedError
from compose.state.layout import down_asked_path, lock_path


class ProjectLock:
    def __init__(self, project: str, path: Path | None = None) -> None:
        """``path``: another of the project's locks (``layout.teardown_lock_path``)."""
        self.project = project
        self.path = path or lock_path(project)
        self._fd: int | None = None

    def acquire(self, timeout: float = 0.0) -> ProjectLock:
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise ProjectLockedError(
                    f'project "{self.project}": another pycompose process is acting on it',
                    hint="wait for it, or run `pycompose down` to stop its supervisor",
                )
            time.sleep(0.05)
        return self

    def try_acquire(self) -> bool:
        """Take it if it is free (never waits)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if not _try_flock(fd):
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

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


def note_down_asked(project: str) -> None:
    """A `down` begins (``layout.down_asked_path``: its time.time(), not the coarse mtime)."""
    path = down_asked_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{time.time()!r}\n")


def down_asked_since(project: str, when: float) -> bool:
    """A `down` was asked after ``when`` (a time.time())."""
    try:
        return float(down_asked_path(project).read_text()) > when
    except (OSError, ValueError):
        return False


def holder(project: str) -> str:
    """Who holds the project lock, for an error: ``process 4242 (pycompose up -d)``."""
    pid = lock_holder_pid(project)
    if pid is None:
        return "another pycompose process"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"process {pid}"
    words = [w.decode(errors="replace") for w in argv if w]
    if words[1:3] == ["-m", "compose"]:
        words = ["pycompose", *words[3:]]
    elif words[1:3] == ["-m", "compose.supervisor"]:
        words = ["a pycompose supervisor"]
    return f"process {pid} ({' '.join(words[:6])})"


def lock_holder_pid(project: str) -> int | None:
    try:
        text = lock_path(project).read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() and is_locked(project) else None
