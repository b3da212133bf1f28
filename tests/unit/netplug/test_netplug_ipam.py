"""IPAM: pure allocator over the memory and disk stores, subnet pool, route parsing."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from netplug.errors import AddressExhausted, NetworkConfigError
from netplug.ipam import DiskStore, MemoryStore, allocate, make_range, release
from netplug.ipam.pool import assign, parse_route_table, pick_subnet

IP = ipaddress.IPv4Address


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryStore | DiskStore:
    return MemoryStore() if request.param == "memory" else DiskStore(tmp_path / "net")


def test_netplug_allocates_after_gateway_round_robin(store: MemoryStore | DiskStore) -> None:
    rng = make_range("10.9.0.0/29")
    got = [allocate(store, rng, f"o{i}", "eth0") for i in range(3)]
    assert got == [IP("10.9.0.2"), IP("10.9.0.3"), IP("10.9.0.4")]
    release(store, "o0")
    assert allocate(store, rng, "o9", "eth0") == IP("10.9.0.5")  # continues after the last one


def test_netplug_same_owner_gets_same_ip(store: MemoryStore | DiskStore) -> None:
    rng = make_range("10.9.0.0/24")
    assert allocate(store, rng, "a", "eth0") == allocate(store, rng, "a", "eth0")


def test_netplug_exhaustion_and_reclaim(store: MemoryStore | DiskStore) -> None:
    rng = make_range("10.9.0.0/29")  # .2-.6 usable (5)
    for i in range(5):
        allocate(store, rng, f"o{i}", "eth0")
    with pytest.raises(AddressExhausted):
        allocate(store, rng, "late", "eth0")
    ip = allocate(store, rng, "late", "eth0", owner_alive=lambda owner: owner != "o3")
    assert ip == IP("10.9.0.5")


def test_netplug_static_address(store: MemoryStore | DiskStore) -> None:
    rng = make_range("10.9.0.0/24")
    assert allocate(store, rng, "a", "eth0", "10.9.0.50") == IP("10.9.0.50")
    with pytest.raises(NetworkConfigError, match="in use by a"):
        allocate(store, rng, "b", "eth0", "10.9.0.50")
    with pytest.raises(NetworkConfigError, match="gateway"):
        allocate(store, rng, "b", "eth0", "10.9.0.1")
    with pytest.raises(NetworkConfigError, match="not a host address"):
        allocate(store, rng, "b", "eth0", "10.8.0.5")
    assert allocate(store, rng, "b", "eth0", "10.9.0.50", lambda o: o != "a") == IP("10.9.0.50")


def test_netplug_ip_range_and_custom_gateway() -> None:
    rng = make_range("10.1.0.0/16", "10.1.0.254", "10.1.5.0/30")
    store = MemoryStore()
    got = [allocate(store, rng, f"o{i}", "eth0") for i in range(3)]
    assert got == [IP("10.1.5.0"), IP("10.1.5.1"), IP("10.1.5.2")]  # .0 is a host of the /16
    with pytest.raises(NetworkConfigError):
        make_range("10.1.0.0/16", "10.2.0.1")


def test_netplug_disk_layout_is_host_local(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "n")
    allocate(store, make_range("10.9.0.0/24"), "proj/web-1", "eth0")
    assert (tmp_path / "n" / "10.9.0.2").read_bytes() == b"proj/web-1\r\neth0"
    assert (tmp_path / "n" / "last_reserved_ip.0").read_text() == "10.9.0.2"
    assert (tmp_path / "n" / "lock").exists()


ROUTES = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
br0\t00001CAC\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
"""


def test_netplug_route_table_parse_and_pool_skips_routed() -> None:
    nets = parse_route_table(ROUTES)
    assert [str(n) for n in nets] == ["10.0.0.0/16", "172.28.0.0/24"]
    pool = ipaddress.IPv4Network("172.28.0.0/14")
    assert str(pick_subnet(pool, 24, nets)) == "172.28.1.0/24"


def test_netplug_assign_records_and_avoids_other_networks(tmp_path: Path) -> None:
    first = assign(tmp_path, "p_default", None, None, None, [])
    second = assign(tmp_path, "q_default", None, None, None, [])
    assert (first.subnet, first.gateway) == ("172.28.0.0/24", "172.28.0.1")
    assert second.subnet == "172.28.1.0/24"
    assert assign(tmp_path, "p_default", None, None, None, []) == first
    with pytest.raises(NetworkConfigError, match="overlaps"):
        assign(tmp_path, "r_default", "172.28.1.128/25", None, None, [])


def test_netplug_reclaim_addresses_of_dead_owners(tmp_path: Path) -> None:
    from netplug import NetworkConfig, reclaim_addresses

    cfg = NetworkConfig("p", "default")
    store = DiskStore(tmp_path / cfg.key)
    rng = make_range("10.9.0.0/24")
    for owner in ("p/web-1", "p/web-2", "p/db-1"):
        allocate(store, rng, owner, "eth0")
    assert reclaim_addresses(cfg, lambda o: o != "p/web-2", ipam_root=tmp_path) == 1
    assert sorted(o for o, _ in store.owners()) == ["p/db-1", "p/web-1"]


def test_netplug_empty_reservation_from_a_crash_is_reused(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "n")
    (tmp_path / "n").mkdir()
    (tmp_path / "n" / "10.9.0.2").write_bytes(b"")  # O_EXCL create, killed before the write
    assert allocate(store, make_range("10.9.0.0/24"), "a", "eth0") == IP("10.9.0.2")
    assert sorted(p.name for p in (tmp_path / "n").iterdir()) == [
        "10.9.0.2",
        "last_reserved_ip.0",
        "lock",
    ]
