"""Guards of the supervisor's unix socket: only root (or the supervisor's own user) may talk.

Three layers, each enough on its own: the socket lives in a 0700 directory (under the 0700
run dir), the socket file is 0600 whatever the umask, and every connection's peer uid is read
with ``SO_PEERCRED`` and refused unless it is 0 or the server's own uid.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SOCKET_MODE = 0o600
DIR_MODE = 0o700
_UCRED = struct.Struct("3i")  # pid, uid, gid
SUN_PATH_MAX = 107  # sockaddr_un's 108 bytes, the last one the NUL


def prepare_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(DIR_MODE)


def make_private(path: Path) -> None:
    """Right after bind(): the socket file's own mode."""
    os.chmod(path, SOCKET_MODE)


def peer_uid(sock: socket.socket) -> int:
    _pid, uid, _gid = _UCRED.unpack(
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    )
    return int(uid)


def peer_allowed(sock: socket.socket) -> bool:
    return peer_uid(sock) in (0, os.geteuid())


@contextmanager
def addressable(path: Path) -> Iterator[str]:
    """A name of ``path`` that bind() and connect() take: the path itself, or, when it is longer
    than a socket address holds (a deep state or run dir), the same file reached through an
    open descriptor of its directory (``/proc/self/fd/N/name``). Valid inside the block."""
    text = str(path)
    if len(os.fsencode(text)) <= SUN_PATH_MAX:
        yield text
        return
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)
