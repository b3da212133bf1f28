"""DNS records and loopback proxy backends follow the running replicas (pure functions)."""

from __future__ import annotations

from compose.state import PortRecord, ReplicaRecord
from compose.supervisor.machine.netservices import dns_records, proxy_backends


def rec(service: str, index: int, ip: str, status: str = "running", **kw) -> ReplicaRecord:
    return ReplicaRecord("p", service, index, status=status, ips={"default": ip}, **kw)


def test_dns_names_service_container_and_index_with_every_replica():
    records = [
        rec("web", 1, "10.0.0.2"),
        rec("web", 2, "10.0.0.3"),
        rec("web", 3, "10.0.0.4", status="exited"),
    ]
    names = dns_records(records, {"web": {"default": ["www"]}})["default"]
    assert names["web"] == ["10.0.0.2", "10.0.0.3"]
    assert names["www"] == ["10.0.0.2", "10.0.0.3"]
    assert names["p-web-2"] == ["10.0.0.3"] and names["web-1"] == ["10.0.0.2"]
    assert "p-web-3" not in names


def test_proxy_backends_group_replicas_behind_one_published_port():
    port = (PortRecord(80, 8080),)
    records = [
        rec("web", 1, "10.0.0.2", ports=port),
        rec("web", 2, "10.0.0.3", ports=port),
        rec("db", 1, "10.0.0.9", ports=(PortRecord(5432),)),
    ]
    both = [("10.0.0.2", 80), ("10.0.0.3", 80)]
    got = proxy_backends(records)
    assert got[("127.0.0.1", 8080, "tcp")] == both
    assert got.get(("::", 8080, "tcp"), both) == both  # IPv6 clients, where the host has IPv6
    assert len(got) <= 2


def test_proxy_and_dns_with_ipv6_addresses():
    """[::1]:port reaches the replicas' IPv6 addresses; 127.0.0.1 their IPv4 ones; a binding
    to 0.0.0.0 is IPv4 only; DNS tables hold both families (A and AAAA answers)."""
    ports = (PortRecord(80, 8080, "tcp", "::1"), PortRecord(81, 8081, "tcp", "0.0.0.0"))
    web = rec("web", 1, "10.0.0.2", ports=ports, ips6={"default": "fd00::2"})
    assert proxy_backends([web]) == {
        ("::1", 8080, "tcp"): [("fd00::2", 80)],
        ("127.0.0.1", 8081, "tcp"): [("10.0.0.2", 81)],
    }
    assert dns_records([web], {})["default"]["web"] == ["10.0.0.2", "fd00::2"]
