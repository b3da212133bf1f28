"""hand_over: a successor takes over its stopped predecessor's IPv4 and IPv6 addresses, so a
client that cached an address (its neighbour entry included) reaches the successor at once."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from netplug_env import Env, Responder, env_fixture, fetch, reachable  # noqa: F401

import netplug
from netplug.ipam import DiskStore
from netplug.netns import call_in

pytestmark = pytest.mark.privileged


def _entries(env: Env, cfg: netplug.NetworkConfig) -> dict[str, tuple[str, str]]:
    return {str(ip): held for ip, held in DiskStore(env.ipam / cfg.key).entries().items()}


def _addresses(env: Env, ns: object, family: str = "-4") -> list[str]:
    out = env.sh(ns, "ip", family, "-o", "addr", "show", "dev", "eth0", "scope", "global").stdout  # type: ignore[arg-type]
    return [line.split()[3].split("/")[0] for line in out.splitlines()]


Pair = tuple[netplug.NetworkConfig, Path, Path, netplug.Attachment, Path, netplug.Attachment]


def _learns(env: Env, client: Path, ip: str, mac: str) -> str:
    """The client's neighbour entry for ``ip`` once it names ``mac`` (bounded: 2 s). The
    announcement is processed asynchronously (softirq), so a connect right after the hand-over
    can still go out to the old MAC and wait for its retransmission; without an announcement
    the entry keeps the old MAC for its reachable time (15-45 s)."""
    family = "-6" if ":" in ip else "-4"
    deadline = time.monotonic() + 2.0
    while True:
        neigh = env.sh(client, "ip", family, "neigh", "show", ip).stdout
        if mac in neigh or time.monotonic() > deadline:
            return neigh
        time.sleep(0.02)


def _pair(env: Env, service: str, **network: object) -> Pair:
    """A network with a client, a stopped predecessor and its successor on it."""
    front, _ = env.network("front", **network)
    client, _ = env.attach("client-1", front)
    old_ns, (old,) = env.attach(f"{service}-1", front)
    new_ns, (new,) = env.attach(f"abc_{service}-1", front)
    return front, client, old_ns, old, new_ns, new


def test_netplug_the_successor_answers_on_the_cached_address_at_once(env: Env) -> None:
    front, client, old_ns, old, new_ns, new = _pair(env, "web")
    env.closers += [Responder(old_ns, 7000, b"old"), Responder(new_ns, 7000, b"new")]
    assert fetch(client, old.ip, 7000) == b"old"  # the client's neighbour entry: old's MAC

    moved = netplug.hand_over(
        env.project,
        "web-1",
        "abc_web-1",
        [(front, old.ip)],
        new_ns,
        keep_own=True,
        host_netns=env.host,
        ipam_root=env.ipam,
    )
    assert moved == [("front", old.ip)]
    neigh = _learns(env, client, old.ip, new.mac)  # no wait for a stale ARP entry
    assert new.mac in neigh, neigh
    assert fetch(client, old.ip, 7000, timeout=1.0) == b"new"
    assert fetch(client, new.ip, 7000) == b"new"  # its own address still answers
    owner = f"{env.project}/abc_web-1"
    assert _entries(env, front)[old.ip] == (owner, "eth0")
    assert _entries(env, front)[new.ip] == (owner, "eth0:1")
    assert sorted(_addresses(env, new_ns)) == sorted([new.ip, old.ip])
    assert "pcv-" not in env.sh(old_ns, "ip", "-o", "link").stdout  # its veth went
    again = netplug.hand_over(  # a second call (after a crash) finds it done
        env.project, "web-1", "abc_web-1", [(front, old.ip)], new_ns,
        host_netns=env.host, ipam_root=env.ipam,
    )  # fmt: skip
    assert again == [("front", old.ip)] and _entries(env, front)[old.ip] == (owner, "eth0")


def test_netplug_a_successor_that_never_served_gives_its_own_address_back(env: Env) -> None:
    front, client, _, old, new_ns, new = _pair(env, "db")
    netplug.hand_over(
        env.project,
        "db-1",
        "abc_db-1",
        [(front, old.ip)],
        new_ns,
        keep_own=False,
        host_netns=env.host,
        ipam_root=env.ipam,
    )
    assert _addresses(env, new_ns) == [old.ip]
    assert new.ip not in _entries(env, front)
    env.closers.append(Responder(new_ns, 7000, b"db"))
    assert fetch(client, old.ip, 7000) == b"db"
    assert not reachable(client, new.ip, 7000)


def test_netplug_an_address_another_replica_holds_stays_there(env: Env) -> None:
    front, _ = env.network("front")
    _a_ns, (a,) = env.attach("web-1", front)
    b_ns, (b,) = env.attach("abc_web-2", front)
    _c_ns, (c,) = env.attach("web-3", front)
    moved = netplug.hand_over(
        env.project, "web-2", "abc_web-2", [(front, c.ip)], b_ns,
        host_netns=env.host, ipam_root=env.ipam,
    )  # fmt: skip
    assert moved == [] and _entries(env, front)[c.ip] == (f"{env.project}/web-3", "eth0")
    assert _addresses(env, b_ns) == [b.ip] and a.ip != b.ip


def test_netplug_ipv6_addresses_move_too_usable_at_once(env: Env) -> None:
    front, client, old_ns, old, new_ns, new = _pair(env, "web", enable_ipv6=True)
    assert old.ip6 and new.ip6
    env.closers += [
        Responder(old_ns, 7000, b"old", ip="::"),
        Responder(new_ns, 7000, b"new", ip="::"),
    ]
    assert fetch(client, old.ip6, 7000) == b"old"  # the client's neighbour entry: old's MAC
    moved = netplug.hand_over(
        env.project,
        "web-1",
        "abc_web-1",
        [(front, old.ip), (front, old.ip6)],
        new_ns,
        keep_own=True,
        host_netns=env.host,
        ipam_root=env.ipam,
    )
    assert moved == [("front", old.ip), ("front", old.ip6)]
    # at once: no wait for the stale neighbour entry to expire, no tentative address (DAD)
    neigh = _learns(env, client, old.ip6, new.mac)
    assert new.mac in neigh, neigh
    assert fetch(client, old.ip6, 7000, timeout=1.0) == b"new"
    assert fetch(client, new.ip6, 7000) == b"new" and fetch(client, old.ip, 7000) == b"new"
    shown = env.sh(new_ns, "ip", "-6", "addr", "show", "dev", "eth0", "scope", "global").stdout
    assert old.ip6 in shown and "tentative" not in shown, shown
    owner = f"{env.project}/abc_web-1"
    entries = _entries(env, front)
    assert entries[old.ip6] == entries[old.ip] == (owner, "eth0")
    assert entries[new.ip6] == entries[new.ip] == (owner, "eth0:1")
    assert sorted(_addresses(env, new_ns, "-6")) == sorted([new.ip6, old.ip6])
    netplug.check(
        env.project, "abc_web-1", [front], new_ns, host_netns=env.host, ipam_root=env.ipam
    )


def test_netplug_an_ipv6_successor_that_never_served_gives_its_own_back(env: Env) -> None:
    front, client, _, old, new_ns, new = _pair(env, "db", enable_ipv6=True)
    assert old.ip6 and new.ip6
    netplug.hand_over(
        env.project, "db-1", "abc_db-1", [(front, old.ip6), (front, old.ip)], new_ns,
        keep_own=False, host_netns=env.host, ipam_root=env.ipam,
    )  # fmt: skip
    assert _addresses(env, new_ns, "-6") == [old.ip6] and _addresses(env, new_ns) == [old.ip]
    entries = _entries(env, front)
    assert new.ip6 not in entries and new.ip not in entries
    env.closers.append(Responder(new_ns, 7000, b"db", ip="::"))
    assert fetch(client, old.ip6, 7000) == b"db"
    assert not reachable(client, new.ip6, 7000)


def test_netplug_a_client_connecting_while_the_address_is_held_reaches_the_successor(
    env: Env,
) -> None:
    """The predecessor closes its listener as it shuts down; a client that connects then is
    not refused (as it was, before ``hold``): its SYN waits and, sent again, reaches the
    successor once the address moved. A connection opened before the hold carries on."""
    front, client, old_ns, old, new_ns, _ = _pair(env, "web")
    listener = Responder(old_ns, 7000, b"old")
    env.closers.append(Responder(new_ns, 7000, b"new"))
    server = call_in(old_ns, lambda: socket.create_server(("0.0.0.0", 7001)))
    open_before = call_in(client, lambda: socket.create_connection((old.ip, 7001), timeout=3))
    served, _ = server.accept()
    netplug.hold(old_ns, [old.ip])
    listener.close()  # shutting down: without the hold, the next connect is refused
    answer: list[bytes | BaseException] = []

    def connect() -> None:
        try:
            answer.append(fetch(client, old.ip, 7000, timeout=5))
        except OSError as exc:
            answer.append(exc)

    waiting = threading.Thread(target=connect)
    waiting.start()
    time.sleep(0.3)
    assert answer == []  # not refused: it waits
    with open_before, served, server:  # accepted before the hold: it carries on both ways
        open_before.sendall(b"ping")
        assert served.recv(16) == b"ping"
        served.sendall(b"old")
        assert open_before.recv(16) == b"old"
    netplug.hand_over(
        env.project, "web-1", "abc_web-1", [(front, old.ip)], new_ns,
        host_netns=env.host, ipam_root=env.ipam,
    )  # fmt: skip
    waiting.join(6)
    assert answer == [b"new"]  # the SYN sent again (after ~1 s) reached the successor
    assert fetch(client, old.ip, 7000) == b"new"


def test_netplug_a_released_hold_lets_the_replica_serve_again(env: Env) -> None:
    """A drain that ends without a hand-over (the supervisor died between the two): once the
    hold is released, new connections reach the replica again; a second release finds none."""
    _, client, old_ns, old, _, _ = _pair(env, "web")
    env.closers.append(Responder(old_ns, 7000, b"old"))
    netplug.hold(old_ns, [old.ip])
    assert not reachable(client, old.ip, 7000)  # its SYNs are dropped: the connect times out
    assert netplug.release_hold(old_ns) is True
    assert fetch(client, old.ip, 7000) == b"old"
    assert netplug.release_hold(old_ns) is False
