"""netplug's error tree. pyroute2 and OSError are translated once, at the netlink boundary."""

from __future__ import annotations


class NetplugError(Exception):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
