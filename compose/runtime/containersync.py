"""``watch``'s sync: host files written into (or removed from) a running container, paths
resolved inside its root (``safepath``: a symlink in the container never leads to the host).

A file is written whole (its content, mode and times; owned by root, as docker compose's sync
writes it); a directory is made with what it holds; a path gone from the host is removed from
the container (a directory with what it holds).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

from compose.runtime import safepath
from compose.runtime.containercp import open_root

_WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def sync(pid: int, start_time: int | None, subject: str, items: Sequence[tuple[Path, str]]) -> None:
    """(host path, container path) pairs, in order; one open of the container's root."""
    with safepath.closing(open_root(pid, start_time, subject)) as root:
        for host, inside in items:
            try:
                info = os.lstat(host)
            except FileNotFoundError:
                remove(root, inside)
                continue
            if stat.S_ISDIR(info.st_mode):
                write_tree(root, host, inside)
            elif stat.S_ISREG(info.st_mode):
                write_file(root, host, inside, info)


def write_file(root: int, host: Path, inside: str, info: os.stat_result) -> None:
    makedirs(root, posixpath.dirname(posixpath.normpath("/" + inside)))
    try:
        src = os.open(host, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # removed since the event: the next batch removes it in the container
    with (
        safepath.closing(src),
        safepath.closing(safepath.open_in_root(root, inside, _WRITE, 0o600)) as dst,
    ):
        safepath.copy_data(src, dst, os.fstat(src).st_size)
        safepath.copy_attrs(info, dst, keep_owner=False)


def makedirs(root: int, path: str) -> None:
    """The directories of ``path`` that are missing, made 0755 whatever this process's umask
    (a private one must not leak into the container's tree)."""
    done = ""
    for part in [p for p in path.split("/") if p and p != "."]:
        parent, done = done, f"{done}/{part}"
        try:
            os.close(safepath.open_in_root(root, done, os.O_PATH | os.O_DIRECTORY))
            continue
        except FileNotFoundError:
            pass
        with safepath.closing(safepath.open_in_root(root, parent or "/", _DIR)) as up:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=up)
            with safepath.closing(os.open(part, safepath.DIR_FLAGS, dir_fd=up)) as made:
                os.fchmod(made, 0o755)


def write_tree(root: int, host: Path, inside: str) -> None:
    makedirs(root, inside)
    flags = safepath.DIR_FLAGS
    with (
        safepath.closing(os.open(host, flags & ~os.O_NOFOLLOW)) as src,
        safepath.closing(safepath.open_in_root(root, inside, os.O_RDONLY | os.O_DIRECTORY)) as dst,
    ):
        safepath.copy_tree(src, dst, keep_owner=False, merge=True)


def remove(root: int, inside: str) -> None:
    """``inside`` (a file, link or directory tree) goes; absence is fine."""
    parent, name = posixpath.split(posixpath.normpath("/" + inside))
    if not name:
        return
    try:
        directory = safepath.open_in_root(root, parent, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return
    with safepath.closing(directory):
        try:
            info = os.stat(name, dir_fd=directory, follow_symlinks=False)
        except FileNotFoundError:
            return
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(name, dir_fd=directory)
            else:
                os.unlink(name, dir_fd=directory)
