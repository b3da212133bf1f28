"""IPAM: pure allocator over the memory and disk stores, subnet pool, route parsing."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from netplug.errors import AddressExhausted, NetworkConfigError
from netplug.ipam import DiskStore, MemoryStore, allocate, make_range, release
from netplug.ipam.pool import assign, parse_ipv6_route_table, parse_route_table, pick_subnet
from netplug.types import AddressPool, NetworkConfig

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
    assert (tmp_path / "n" / "last_reserved_ip.0").read_text().strip() == "10.9.0.2"
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


def _cfg(project: str, **kw: object) -> NetworkConfig:
    return NetworkConfig(project, "default", **kw)  # type: ignore[arg-type]


def test_netplug_assign_records_and_avoids_other_networks(tmp_path: Path) -> None:
    first = assign(tmp_path, _cfg("p"), [])
    second = assign(tmp_path, _cfg("q"), [])
    assert (first.subnet, first.gateway) == ("172.28.0.0/24", "172.28.0.1")
    assert second.subnet == "172.28.1.0/24"
    assert assign(tmp_path, _cfg("p"), []) == first
    with pytest.raises(NetworkConfigError, match="overlaps"):
        assign(tmp_path, _cfg("r", subnet="172.28.1.128/25"), [])


def test_netplug_ipv6_subnets_from_a_unique_local_pool(tmp_path: Path) -> None:
    """enable_ipv6 without a subnet: /64s of this root's ULA /48 (fd + 40 random bits), kept
    across calls, never overlapping a host route or another network; the IPv4 one as ever."""
    first = assign(tmp_path, _cfg("p", enable_ipv6=True), [])
    ula = ipaddress.IPv6Network((tmp_path / "ula-prefix").read_text().strip())
    assert ula.prefixlen == 48 and ula.subnet_of(ipaddress.IPv6Network("fd00::/8"))
    net6 = ipaddress.IPv6Network(first.subnet6)
    assert net6.prefixlen == 64 and net6.subnet_of(ula)
    assert first.gateway6 == str(net6.network_address + 1)
    assert first.subnet == "172.28.0.0/24"
    routed = [ipaddress.IPv6Network(f"{ula.network_address}/63")]  # the first two /64s
    second = assign(tmp_path, _cfg("q", enable_ipv6=True), routed)
    assert ipaddress.IPv6Network(second.subnet6) == list(ula.subnets(new_prefix=64))[2]
    assert assign(tmp_path, _cfg("p", enable_ipv6=True), []) == first
    assert assign(tmp_path, _cfg("v4only"), []).subnet6 is None


def test_netplug_ipv6_explicit_subnets_and_configured_pools(tmp_path: Path) -> None:
    pools = [AddressPool("10.50.0.0/16", 26), AddressPool("fd42:1::/56", 80)]
    got = assign(tmp_path, _cfg("p", enable_ipv6=True), [], pools)
    assert (got.subnet, got.subnet6) == ("10.50.0.0/26", "fd42:1::/80")
    own = assign(
        tmp_path, _cfg("q", enable_ipv6=True, subnet6="fd99::/64", gateway6="fd99::fe"), []
    )
    assert (own.subnet6, own.gateway6) == ("fd99::/64", "fd99::fe")
    with pytest.raises(NetworkConfigError, match="overlaps"):
        assign(tmp_path, _cfg("r", enable_ipv6=True, subnet6="fd99::8000/113"), [])
    with pytest.raises(NetworkConfigError, match="not an IPv6 subnet"):
        assign(tmp_path, _cfg("s", enable_ipv6=True, subnet6="10.9.0.0/24"), [])


def test_netplug_ipv6_route_table_parse() -> None:
    text = (
        "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
        "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
        "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
        "fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n"
    )
    assert parse_ipv6_route_table(text) == [ipaddress.IPv6Network("fd00::/64")]


def test_netplug_allocates_ipv6_next_to_ipv4_for_one_interface(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "n")
    v4, v6 = make_range("10.9.0.0/24"), make_range("fd00:9::/64")
    assert allocate(store, v4, "p/web-1", "eth0") == IP("10.9.0.2")
    assert allocate(store, v6, "p/web-1", "eth0") == ipaddress.IPv6Address("fd00:9::2")
    assert allocate(store, v6, "p/web-2", "eth0", "fd00:9::42") == ipaddress.IPv6Address(
        "fd00:9::42"
    )
    assert allocate(store, v6, "p/web-1", "eth0") == ipaddress.IPv6Address("fd00:9::2")
    assert (tmp_path / "n" / "last_reserved_ip.1").read_text().strip() == "fd00:9::42"
    assert (tmp_path / "n" / "last_reserved_ip.0").read_text().strip() == "10.9.0.2"
    with pytest.raises(NetworkConfigError, match="is not an IPv6 address"):
        allocate(store, v6, "p/web-3", "eth0", "10.9.0.9")
    release(store, "p/web-1", "eth0")
    assert sorted(map(str, store.entries())) == ["fd00:9::42"]


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


def test_netplug_a_new_store_finds_and_releases_owners_by_their_names(tmp_path: Path) -> None:
    """A store made empty is indexed: each reservation's file has a second name by its owner,
    lookups and releases go through those, and the host-local files are as before."""
    from netplug.ipam.store import INDEXED

    store = DiskStore(tmp_path / "n")
    v4, v6 = make_range("10.9.0.0/24"), make_range("fd00:9::/64")
    for n in range(1, 6):
        allocate(store, v4, f"p/web-{n}", "eth0")
    allocate(store, v6, "p/web-1", "eth0")
    allocate(store, v4, "p/web-1", "eth1:1")
    assert (tmp_path / "n" / INDEXED).exists()
    assert store.get_by_owner("p/web-3", "eth0") == IP("10.9.0.4")
    assert store.get_by_owner("p/web-1", "eth0", 6) == ipaddress.IPv6Address("fd00:9::2")
    assert store.get_by_owner("p/web-1", "eth1:1") == IP("10.9.0.7")
    assert store.get_by_owner("p/web-9", "eth0") is None
    assert (tmp_path / "n" / "10.9.0.4").read_bytes() == b"p/web-3\r\neth0"  # host-local's
    assert (tmp_path / "n" / "10.9.0.4").stat().st_nlink == 2  # no inode of its own
    release(store, "p/web-1")  # every interface, both families
    assert store.get_by_owner("p/web-1", "eth0") is None
    assert sorted(map(str, store.entries())) == [f"10.9.0.{n}" for n in (3, 4, 5, 6)]
    names = [p.name for p in (tmp_path / "n").iterdir() if p.name.startswith("owner-")]
    assert len(names) == 4  # the released owner's three names are gone with its addresses


def test_netplug_an_owner_name_that_is_not_the_address_file_is_ignored(tmp_path: Path) -> None:
    """A name left by a crash before its reservation, or naming an address that changed hands
    since, never hands out someone else's address, and a release removes it."""
    from netplug.ipam.store import _owner_name

    store = DiskStore(tmp_path / "n")
    rng = make_range("10.9.0.0/24")
    assert allocate(store, rng, "p/a-1", "eth0") == IP("10.9.0.2")
    (tmp_path / "n" / _owner_name("p/b-1", IP("10.9.0.2"), "eth0")).write_bytes(b"p/b-1\r\neth0")
    assert store.get_by_owner("p/b-1", "eth0") is None
    assert allocate(store, rng, "p/b-1", "eth0") == IP("10.9.0.3")
    assert store.get_by_owner("p/a-1", "eth0") == IP("10.9.0.2")
    release(store, "p/b-1")
    assert store.get_by_owner("p/a-1", "eth0") == IP("10.9.0.2")  # a's is not b's to release
    assert not any("10.9.0.3" in p.name for p in (tmp_path / "n").iterdir())
    assert not (tmp_path / "n" / _owner_name("p/b-1", IP("10.9.0.2"), "eth0")).exists()


def test_netplug_a_store_with_reservations_from_before_the_index_is_searched(
    tmp_path: Path,
) -> None:
    """Reservations made without owner links (an older version's) are still found: the
    directory is not marked, so every lookup reads the files."""
    from netplug.ipam.store import INDEXED

    (tmp_path / "n").mkdir()
    (tmp_path / "n" / "10.9.0.7").write_bytes(b"p/old-1\r\neth0")
    store = DiskStore(tmp_path / "n")
    rng = make_range("10.9.0.0/24")
    assert allocate(store, rng, "p/old-1", "eth0") == IP("10.9.0.7")  # its own, found
    assert allocate(store, rng, "p/new-1", "eth0") == IP("10.9.0.2")
    assert not (tmp_path / "n" / INDEXED).exists()
    release(store, "p/old-1")
    assert store.get_by_owner("p/old-1", "eth0") is None
