"""Docker legacy link variables (moby daemon/links/links.go Link.ToEnv), pure.

Rules (reference/compose-features.md §3.2): prefix = upper(alias) with "-" → "_"; ports TCP first
then other protocols by name, each ascending; ``<P>_PORT`` once for the first port; a quadruple per
port; START/END variables for every run of ≥ 2 consecutive ports of one protocol; ``<P>_NAME`` =
``/<parent>/<alias>``; ``<P>_ENV_<K>`` for the target's env except HOME and PATH.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Port = tuple[int, str]  # (number, protocol)


def parse_port(spec: str | int) -> list[Port]:
    """``"6379"``, ``"6379/tcp"``, ``"8000-8002/udp"`` → expanded (number, proto) pairs."""
    text = str(spec)
    number, _, proto = text.partition("/")
    first, _, last = number.partition("-")
    return [(n, (proto or "tcp").lower()) for n in range(int(first), int(last or first) + 1)]


def sort_ports(ports: Iterable[Port]) -> list[Port]:
    """moby withTCPPriority: TCP first, then other protocols by name, each by number."""
    return sorted(set(ports), key=lambda p: (p[1] != "tcp", p[1], p[0]))


def _runs(ports: Sequence[Port]) -> list[tuple[Port, Port]]:
    """Runs of ≥ 2 consecutive numbers with one protocol, as (first, last)."""
    runs: list[tuple[Port, Port]] = []
    start = prev = None
    for port in [*ports, None]:
        if prev is not None and port is not None and port == (prev[0] + 1, prev[1]):
            prev = port
            continue
        if start is not None and prev is not None and prev != start:
            runs.append((start, prev))
        start = prev = port
    return runs


def link_env(
    alias: str,
    parent_name: str,
    target_ip: str,
    exposed_ports: Iterable[Port | str | int],
    target_env: Mapping[str, str] | Sequence[str] = (),
) -> dict[str, str]:
    """The variables one link gives the linking container, in moby's order."""
    prefix = alias.upper().replace("-", "_")
    ports = sort_ports(_normalise(exposed_ports))
    env: dict[str, str] = {}
    if ports:
        env[f"{prefix}_PORT"] = f"{ports[0][1]}://{target_ip}:{ports[0][0]}"
    for number, proto in ports:
        env.update(_port_vars(prefix, target_ip, number, proto))
    for (first, proto), (last, _) in _runs(ports):
        key = f"{prefix}_PORT_{first}_{proto.upper()}"
        env[f"{key}_START"] = f"{proto}://{target_ip}:{first}"
        env[f"{key}_PORT_START"] = str(first)
        env[f"{key}_END"] = f"{proto}://{target_ip}:{last}"
        env[f"{key}_PORT_END"] = str(last)
    env[f"{prefix}_NAME"] = f"/{parent_name}/{alias}"
    for key, value in _env_items(target_env):
        if key not in ("HOME", "PATH"):
            env[f"{prefix}_ENV_{key}"] = value
    return env


def _normalise(ports: Iterable[Port | str | int]) -> list[Port]:
    out: list[Port] = []
    for port in ports:
        out += [port] if isinstance(port, tuple) else parse_port(port)
    return out


def _port_vars(prefix: str, ip: str, number: int, proto: str) -> dict[str, str]:
    key = f"{prefix}_PORT_{number}_{proto.upper()}"
    return {
        key: f"{proto}://{ip}:{number}",
        f"{key}_ADDR": ip,
        f"{key}_PORT": str(number),
        f"{key}_PROTO": proto,
    }


def _env_items(env: Mapping[str, str] | Sequence[str]) -> list[tuple[str, str]]:
    if isinstance(env, Mapping):
        return list(env.items())
    return [tuple(item.split("=", 1)) for item in env if "=" in item]  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """One replica of a linked service, as the orchestrator sees it."""

    service: str
    index: int
    ip: str
    exposed_ports: tuple[Port | str | int, ...] = ()
    env: Mapping[str, str] | tuple[str, ...] = ()


def replica_link_env(
    parent_name: str,
    links: Sequence[tuple[str, Sequence[LinkTarget]]],
    own_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """All link variables of one replica. ``links`` = [(alias, replicas of the target service)].

    ``<ALIAS>_*`` point at replica 1 (lowest index), ``<SERVICE>_<N>_*`` at every replica (as
    docker-compose v1 did); the replica's own ``environment:`` wins on conflicts.
    """
    env: dict[str, str] = {}
    for alias, replicas in links:
        ordered = sorted(replicas, key=lambda r: r.index)
        if not ordered:
            continue
        first = ordered[0]
        env.update(link_env(alias, parent_name, first.ip, first.exposed_ports, first.env))
        for rep in ordered:
            env.update(
                link_env(
                    f"{rep.service}_{rep.index}", parent_name, rep.ip, rep.exposed_ports, rep.env
                )
            )
    env.update(own_env or {})
    return env
