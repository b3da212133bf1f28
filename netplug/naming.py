"""Deterministic kernel names (≤ 15 characters, IFNAMSIZ-1), hashed per project and network."""

from __future__ import annotations

import hashlib

IFNAMSIZ_MAX = 15
BRIDGE_PREFIX = "pcb-"
VETH_PREFIX = "pcv-"


def _digest(*parts: str, length: int = 10) -> str:
    joined = "\x00".join(parts).encode()
    return hashlib.sha256(joined).hexdigest()[:length]


def bridge_name(project: str, network: str) -> str:
    return BRIDGE_PREFIX + _digest("bridge", project, network)


def veth_name(project: str, replica_id: str, network: str) -> str:
    """Host end of the veth pair of (replica, network)."""
    return VETH_PREFIX + _digest("veth", project, replica_id, network)


def network_table(project: str, network: str) -> str:
    """nftables table holding masquerade and isolation rules of one network."""
    return bridge_name(project, network)


def ports_table(project: str, network: str, key: str) -> str:
    """nftables table holding the DNAT rules of one publish key (e.g. a service) on a network."""
    return f"{network_table(project, network)}-p-{_digest('ports', key, length=8)}"


def owner_id(project: str, replica_id: str) -> str:
    """IPAM owner of a replica's addresses."""
    return f"{project}/{replica_id}"
