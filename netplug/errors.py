"""netplug's error tree. Netlink/nft/OSError failures are translated once, where they happen.

NetplugError
├── NetworkConfigError   the request is wrong (bad subnet, static IP outside the subnet, name clash)
├── AddressExhausted     no free IP in a subnet / no free subnet in the pool
├── PortInUseError       a published host port is already taken
├── KernelError          a netlink / nft / sysctl step failed (names the object and the step)
└── CheckFailed          ``check``: the kernel differs from what ``attach`` promised
"""

from __future__ import annotations


class NetplugError(Exception):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class NetworkConfigError(NetplugError):
    pass


class AddressExhausted(NetplugError):
    pass


class PortInUseError(NetplugError, OSError):
    """Also an OSError: callers that guard socket binds with ``except OSError`` still catch it."""


class KernelError(NetplugError):
    pass


class CheckFailed(NetplugError):
    pass
