"""/etc/hosts for a replica (a pure renderer) and in-place rewriting of bind-mounted files.

(/etc/resolv.conf follows Docker's rules in compose.runtime.etcfiles; its nameserver on the
project's networks is resolver.ADDRESS.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from netplug.types import HostEntry

_DEFAULTS = (
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
)


def render_hosts(
    own: Sequence[HostEntry],
    peers: Iterable[HostEntry] = (),
    extra_hosts: Mapping[str, str] | Sequence[str] = (),
) -> str:
    """Defaults, then the replica's own addresses and names, then peers, then ``extra_hosts``.

    ``extra_hosts`` accepts ``{"host": "ip"}`` or compose's ``["host:ip", "host=ip"]``.
    """
    lines = list(_DEFAULTS)
    lines += [_line(entry) for entry in own]
    lines += [_line(entry) for entry in peers if entry.names]
    lines += [f"{ip}\t{host}" for host, ip in _extra(extra_hosts)]
    return "\n".join(lines) + "\n"


def _line(entry: HostEntry) -> str:
    names = list(dict.fromkeys(entry.names))
    return f"{entry.ip}\t{' '.join(names)}"


def _extra(extra: Mapping[str, str] | Sequence[str]) -> list[tuple[str, str]]:
    if isinstance(extra, Mapping):
        return list(extra.items())
    pairs = []
    for item in extra:
        sep = "=" if "=" in item else ":"
        host, _, ip = item.partition(sep)
        pairs.append((host.strip(), ip.strip().strip("[]")))
    return pairs


def write_in_place(path: Path, text: str) -> None:
    """Rewrite keeping the inode, so a bind mount of this file into a container sees the change.

    The new text goes over the old one (padded with newlines to the old length: a reader in
    between sees blank lines, never half an old one), then the file is cut to its length.
    Never truncated to zero first: on ext4 a close after that writes the file back at once
    (``auto_da_alloc``), ~3 ms per file where this costs ~10 µs."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        data = text.encode()
        old = os.fstat(fd).st_size
        os.pwrite(fd, data + b"\n" * (old - len(data)), 0)
        if old > len(data):
            os.ftruncate(fd, len(data))
    finally:
        os.close(fd)
