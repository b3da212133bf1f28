"""Per-netns sysctls. /proc/sys/net resolves to the netns of the *thread* that opens it."""

from __future__ import annotations

from pathlib import Path

from netplug.errors import KernelError
from netplug.netns import NetnsRef, entered


def write(netns: NetnsRef, key: str, value: str) -> None:
    path = Path("/proc/sys") / key.replace(".", "/")
    with entered(netns):
        try:
            if path.read_text().strip() != value:
                path.write_text(value)
        except OSError as exc:
            raise KernelError(f"sysctl {key}={value}: {exc.strerror or exc}") from exc
