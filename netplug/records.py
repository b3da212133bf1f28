"""DNS records of a network (pure): which names resolve to which replica IPs.

One ``Records`` per network key; queries are answered only from the records of the network the
query arrived on, so names of other networks and other projects never leak.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReplicaNames:
    """One replica on one network: its IP and every name it answers to there."""

    ip: str
    service: str
    index: int
    container_name: str
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return (self.service, f"{self.service}-{self.index}", self.container_name, *self.aliases)


def build_records(replicas: Iterable[ReplicaNames]) -> dict[str, list[str]]:
    """name → IPs (in replica order); service names and aliases collect every replica."""
    table: dict[str, list[str]] = {}
    for rep in sorted(replicas, key=lambda r: (r.service, r.index)):
        for name in rep.names():
            ips = table.setdefault(normalise(name), [])
            if rep.ip not in ips:
                ips.append(rep.ip)
    return table


def normalise(name: str) -> str:
    return name.rstrip(".").lower()


class NetworkRecords:
    """Mutable holder the DNS server reads; ``replace`` swaps a network's table atomically."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, list[str]]] = {}
        self._reverse: dict[str, dict[str, str]] = {}

    def replace(
        self,
        network_key: str,
        records: Mapping[str, Sequence[str]],
        reverse: Mapping[str, str] | None = None,
    ) -> None:
        """``reverse``: ip → the name a PTR query for it answers."""
        self._tables[network_key] = {normalise(k): list(v) for k, v in records.items()}
        self._reverse[network_key] = dict(reverse or {})

    def drop(self, network_key: str) -> None:
        self._tables.pop(network_key, None)
        self._reverse.pop(network_key, None)

    def pointer(self, network_key: str, ip: str) -> str | None:
        return self._reverse.get(network_key, {}).get(ip)

    def lookup(self, network_key: str, name: str) -> list[str] | None:
        """Shuffled IPs, or None when the name is not ours (then the query is forwarded)."""
        ips = self._tables.get(network_key, {}).get(normalise(name))
        if not ips:
            return None
        shuffled = list(ips)
        random.shuffle(shuffled)
        return shuffled
