"""DNS records of a network (pure): which names resolve to which replica IPs.

One table per network key. A query is answered from the networks of the replica that asks
(``Client``: Docker's rule), else from the network it arrived on, so names of networks the
asker is not on, and of other projects, never leak.
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


Upstream = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Client:
    """What one replica's queries see, whichever of its networks they arrive on (as Docker's
    resolver: the names of every network the container is on, in its order) and where the
    names that aren't ours go (its ``dns:`` servers; empty: the server's upstreams)."""

    networks: tuple[str, ...]
    upstreams: tuple[Upstream, ...] = ()


class NetworkRecords:
    """Mutable holder the DNS server reads; ``replace`` swaps a network's table atomically."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, list[str]]] = {}
        self._reverse: dict[str, dict[str, str]] = {}
        self._clients: dict[str, dict[str, Client]] = {}

    def replace(
        self,
        network_key: str,
        records: Mapping[str, Sequence[str]],
        reverse: Mapping[str, str] | None = None,
        clients: Mapping[str, Client] | None = None,
    ) -> None:
        """``reverse``: ip → the name a PTR query for it answers; ``clients``: ip → Client of
        the replicas on this network (a query from another address sees this network only)."""
        self._tables[network_key] = {normalise(k): list(v) for k, v in records.items()}
        self._reverse[network_key] = dict(reverse or {})
        self._clients[network_key] = dict(clients or {})

    def drop(self, network_key: str) -> None:
        self._tables.pop(network_key, None)
        self._reverse.pop(network_key, None)
        self._clients.pop(network_key, None)

    def client(self, network_key: str, ip: str | None) -> Client:
        known = self._clients.get(network_key, {}).get(ip or "")
        return known if known is not None and known.networks else Client((network_key,))

    def pointer(self, network_key: str, ip: str, client: str | None = None) -> str | None:
        for key in self.client(network_key, client).networks:
            found = self._reverse.get(key, {}).get(ip)
            if found is not None:
                return found
        return None

    def lookup(self, network_key: str, name: str, client: str | None = None) -> list[str] | None:
        """Shuffled IPs from the first of the client's networks that has the name, or None
        when it is not ours (then the query is forwarded)."""
        for key in self.client(network_key, client).networks:
            ips = self._tables.get(key, {}).get(normalise(name))
            if ips:
                shuffled = list(ips)
                random.shuffle(shuffled)
                return shuffled
        return None
