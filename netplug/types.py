"""Plain data passed between the orchestrator and netplug (cheap to import: stdlib only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AddressPool:
    """Where networks without a configured subnet get one: ``size``-bit prefixes of ``base``
    (Docker's ``default-address-pools`` entries; IPv4 and IPv6 pools alike)."""

    base: str
    size: int


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """One compose network of one project. ``name`` is the compose key, e.g. ``"default"``.
    ``enable_ipv6``: the network also has an IPv6 subnet (``subnet6`` or one from a pool)."""

    project: str
    name: str
    subnet: str | None = None
    gateway: str | None = None
    ip_range: str | None = None
    internal: bool = False
    mtu: int = 1500
    driver_opts: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
    labels: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
    enable_ipv6: bool = False
    subnet6: str | None = None
    gateway6: str | None = None
    ip_range6: str | None = None

    @property
    def key(self) -> str:
        """Docker-style full name ``<project>_<name>``; also the IPAM directory name."""
        return f"{self.project}_{self.name}"

    @property
    def link_mtu(self) -> int:
        """``mtu``, unless Docker's ``com.docker.network.driver.mtu`` driver option says else."""
        return int(self.driver_opts.get("com.docker.network.driver.mtu", self.mtu))


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    bridge: str
    subnet: str
    gateway: str
    subnet6: str | None = None
    gateway6: str | None = None


@dataclass(frozen=True, slots=True)
class AttachRequest:
    """One network of a replica. ``ifname`` defaults to ``eth<position>`` in the request order."""

    network: NetworkConfig
    ipv4_address: str | None = None
    aliases: tuple[str, ...] = ()
    ifname: str | None = None
    mac_address: str | None = None
    ipv6_address: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    network: str
    ifname: str
    ip: str
    prefixlen: int
    mac: str
    gateway: str
    host_ifname: str
    ip6: str | None = None  # on a network with enable_ipv6
    prefixlen6: int = 0
    gateway6: str | None = None


@dataclass(frozen=True, slots=True)
class HostEntry:
    ip: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PortBinding:
    """A published port of one replica: ``host_ip:host_port -> target_ip:target_port/proto``.

    Several bindings with the same (host_ip, host_port, proto) are load-balanced.
    ``host_ip`` "" means every host address of both families (Docker's default), "0.0.0.0"
    every IPv4 one, "::" every IPv6 one. ``target_ip`` is an IPv4 or an IPv6 address: a
    port reaches IPv6 addresses of the host only through IPv6 targets (or the proxy).
    """

    host_port: int
    target_ip: str
    target_port: int
    protocol: str = "tcp"
    host_ip: str = ""
