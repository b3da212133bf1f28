"""Pure pieces: kernel names, hosts/resolv.conf, nft rules, DNS records and answers, ports."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from netplug import naming, nft
from netplug.dns import answer
from netplug.errors import NetworkConfigError
from netplug.hosts import render_hosts, write_in_place
from netplug.ports import bindings_for, host_ports
from netplug.records import NetworkRecords, ReplicaNames, build_records
from netplug.types import HostEntry, NetworkConfig, PortBinding


def test_netplug_names_are_short_deterministic_and_distinct() -> None:
    names = {naming.bridge_name(p, n) for p in ("a", "b") for n in ("default", "back")}
    assert len(names) == 4
    assert all(len(n) <= 15 for n in names)
    assert naming.bridge_name("a", "default") == naming.bridge_name("a", "default")
    veth = naming.veth_name("a-very-long-project-name", "web-12", "default")
    assert len(veth) <= 15 and veth.startswith("pcv-")
    table = naming.network_table("a", "default")
    assert naming.ports_table("a", "default", "web").startswith(table)


def test_netplug_network_config_is_hashable_and_keyed() -> None:
    cfg = NetworkConfig("proj", "default", labels={"x": "y"})
    assert cfg.key == "proj_default" and hash(cfg) == hash(NetworkConfig("proj", "default"))


def test_netplug_hosts_file() -> None:
    text = render_hosts(
        [HostEntry("10.0.0.2", ("web-1", "proj-web-1", "web"))],
        [HostEntry("10.0.0.3", ("db", "db-1", "proj-db-1"))],
        ["gw.example:10.0.0.254", "other=1.2.3.4"],
    )
    lines = text.splitlines()
    assert lines[0] == "127.0.0.1\tlocalhost"
    assert "10.0.0.2\tweb-1 proj-web-1 web" in lines
    assert "10.0.0.3\tdb db-1 proj-db-1" in lines
    assert lines[-2:] == ["10.0.0.254\tgw.example", "1.2.3.4\tother"]


def test_netplug_write_in_place_keeps_the_inode(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("x" * 100)
    inode = path.stat().st_ino
    write_in_place(path, "short\n")
    assert path.read_text() == "short\n" and path.stat().st_ino == inode
    write_in_place(path, "a longer text\n" * 20)
    assert path.read_text() == "a longer text\n" * 20 and path.stat().st_ino == inode


def test_netplug_nft_rules_text() -> None:
    text = nft.network_ruleset("pcb-1", "pcb-1", "10.0.0.0/24", internal=False)
    assert 'ip saddr 10.0.0.0/24 oifname != "pcb-1" masquerade' in text
    assert 'iifname "pcb-1" oifname "pcb-*" oifname != "pcb-1" drop' in text
    internal = nft.network_ruleset("pcb-1", "pcb-1", "10.0.0.0/24", internal=True)
    assert 'oifname != "pcb-1" masquerade' not in internal
    assert 'iifname "pcb-1" oifname != "pcb-1" drop' in internal
    ports = nft.ports_ruleset(
        "t",
        [
            PortBinding(8080, "10.0.0.2", 80),
            PortBinding(8080, "10.0.0.3", 80),
            PortBinding(53, "10.0.0.2", 53, "udp", "127.0.0.1"),
        ],
    )
    assert "numgen random mod 2 map { 0 : 10.0.0.2 . 80, 1 : 10.0.0.3 . 80 }" in ports
    assert "udp dport 53" not in ports  # loopback-only: served by the proxy


def test_netplug_nft_ipv6_rules_text() -> None:
    """IPv6 targets go to the family ip6 twin; "0.0.0.0" is IPv4 only, "" both, "::" IPv6."""
    net6 = nft.network_ruleset("pcb-1", "pcb-1", "fd00:1::/64", internal=False, family="ip6")
    assert net6.startswith("table ip6 pcb-1 {}")
    assert 'ip6 saddr fd00:1::/64 oifname != "pcb-1" masquerade' in net6
    bindings = [
        PortBinding(8080, "10.0.0.2", 80),
        PortBinding(8080, "fd00:1::2", 80),
        PortBinding(8081, "fd00:1::2", 81, host_ip="0.0.0.0"),
        PortBinding(8082, "fd00:1::2", 82, host_ip="::"),
        PortBinding(8083, "fd00:1::2", 83, host_ip="::1"),
    ]
    v6 = nft.ports_ruleset("t", bindings, "ip6")
    assert "fib daddr type local tcp dport 8080 dnat ip6 to [fd00:1::2]:80" in v6
    assert "ip6 daddr != ::1 fib daddr type local tcp dport 8082" in v6
    assert "dport 8081" not in v6 and "dport 8083" not in v6 and "10.0.0.2" not in v6
    v4 = nft.ports_ruleset("t", bindings, "ip")
    assert "dnat ip to 10.0.0.2:80" in v4 and "fd00" not in v4


def test_netplug_host_ports() -> None:
    assert host_ports("8000-8002", 2) == [8000, 8001]
    assert host_ports(8080, 3) == [8080, 8080, 8080]
    with pytest.raises(NetworkConfigError):
        host_ports("8000-8001", 3)
    assert bindings_for("9000-9001", 80, ["10.0.0.2", "10.0.0.3"])[1] == PortBinding(
        9001, "10.0.0.3", 80
    )


def _query(name: str) -> bytes:
    from dnslib import DNSRecord

    return DNSRecord.question(name).pack()


def test_netplug_dns_records_and_answers() -> None:
    from dnslib import DNSRecord

    reps = [
        ReplicaNames("10.0.0.2", "web", 1, "p-web-1", ("www",)),
        ReplicaNames("10.0.0.3", "web", 2, "p-web-2", ("www",)),
    ]
    records = NetworkRecords()
    records.replace("p_default", build_records(reps))
    reply = DNSRecord.parse(answer(_query("WEB."), records, "p_default", 5) or b"")
    assert sorted(str(r.rdata) for r in reply.rr) == ["10.0.0.2", "10.0.0.3"]
    assert all(r.ttl == 5 for r in reply.rr)
    one = DNSRecord.parse(answer(_query("web-2"), records, "p_default", 5) or b"")
    assert [str(r.rdata) for r in one.rr] == ["10.0.0.3"]
    assert answer(_query("www"), records, "q_default", 5) is None  # other network: forwarded
    assert answer(_query("example.org"), records, "p_default", 5) is None
    assert answer(b"junk", records, "p_default", 5) is None


def test_dns_truncates_a_udp_reply_that_does_not_fit_and_tcp_gets_it_all():
    """60 replicas' A records exceed 512 bytes: over UDP the client gets what fits and TC
    (musl and glibc then ask over TCP); EDNS0 raises the limit; TCP is never cut."""
    from dnslib import EDNS0, DNSRecord

    ips = [f"10.0.{i // 200}.{i % 200 + 2}" for i in range(60)]
    records = NetworkRecords()
    records.replace("p_default", {"web": ips})
    udp = answer(_query("web"), records, "p_default", 5, udp=True) or b""
    short = DNSRecord.parse(udp)
    assert len(udp) <= 512 and short.header.tc == 1 and 0 < len(short.rr) < 60
    full = DNSRecord.parse(answer(_query("web"), records, "p_default", 5) or b"")
    assert full.header.tc == 0 and len(full.rr) == 60
    query = DNSRecord.question("web")
    query.add_ar(EDNS0(udp_len=4096))
    big = DNSRecord.parse(answer(query.pack(), records, "p_default", 5, udp=True) or b"")
    assert big.header.tc == 0 and len(big.rr) == 60


def test_dns_answers_ptr_for_its_replicas_and_forwards_the_rest():
    from dnslib import DNSRecord

    records = NetworkRecords()
    records.replace("p_default", {"web": ["10.0.0.2"]}, {"10.0.0.2": "p-web-1.p_default"})
    query = DNSRecord.question("2.0.0.10.in-addr.arpa", "PTR").pack()
    reply = DNSRecord.parse(answer(query, records, "p_default", 5) or b"")
    assert [str(r.rdata) for r in reply.rr] == ["p-web-1.p_default."]
    other = DNSRecord.question("9.0.0.10.in-addr.arpa", "PTR").pack()
    assert answer(other, records, "p_default", 5) is None  # not ours: forwarded
    assert answer(query, records, "q_default", 5) is None  # other network


def test_dns_answers_from_every_network_of_the_asking_replica():
    """A replica on two networks resolves names of both, whichever it asks on (Docker's
    resolver); an unknown asker sees the network the query came in on only."""
    from dnslib import DNSRecord

    from netplug.records import Client

    records = NetworkRecords()
    both = Client(("p_front", "p_back"))
    records.replace("p_front", {"web": ["10.1.0.2"]}, clients={"10.1.0.9": both})
    records.replace("p_back", {"db": ["10.2.0.2"], "web": ["10.2.0.7"]}, clients={"10.2.0.9": both})
    db = DNSRecord.parse(answer(_query("db"), records, "p_front", 5, client="10.1.0.9") or b"")
    assert [str(r.rdata) for r in db.rr] == ["10.2.0.2"]
    web = DNSRecord.parse(answer(_query("web"), records, "p_front", 5, client="10.1.0.9") or b"")
    assert [str(r.rdata) for r in web.rr] == ["10.1.0.2"]  # its first network wins
    assert answer(_query("db"), records, "p_front", 5, client="10.1.0.5") is None
    assert answer(_query("db"), records, "p_front", 5) is None


def test_dns_answers_aaaa_with_ipv6_addresses_and_reverse_ipv6():
    from dnslib import DNSRecord

    records = NetworkRecords()
    records.replace(
        "p_default", {"web": ["10.0.0.2", "fd00:1::2"]}, {"fd00:1::2": "p-web-1.p_default"}
    )
    v4 = DNSRecord.parse(answer(_query("web"), records, "p_default", 5) or b"")
    assert [str(r.rdata) for r in v4.rr] == ["10.0.0.2"]
    aaaa = DNSRecord.question("web", "AAAA").pack()
    v6 = DNSRecord.parse(answer(aaaa, records, "p_default", 5) or b"")
    assert [str(r.rdata) for r in v6.rr] == ["fd00:1::2"]
    records.replace("p_default", {"web": ["10.0.0.2"]})
    empty = DNSRecord.parse(answer(aaaa, records, "p_default", 5) or b"")
    assert empty.header.rcode == 0 and empty.rr == []  # ours, no v6 address: NODATA
    ptr = DNSRecord.question(ipaddress.IPv6Address("fd00:1::2").reverse_pointer, "PTR")
    records.replace("p_default", {}, {"fd00:1::2": "p-web-1.p_default"})
    reply = DNSRecord.parse(answer(ptr.pack(), records, "p_default", 5) or b"")
    assert [str(r.rdata) for r in reply.rr] == ["p-web-1.p_default."]


def test_egress_ruleset_sends_a_clients_dns_and_outbound_tcp_to_the_relay():
    from netplug.nft import egress_ruleset

    text = egress_ruleset("pcb-x-p-1", "172.28.0.2", "172.28.0.0/24", "172.28.0.1", 4000, 4001)
    assert "type nat hook prerouting priority dstnat" in text
    assert "ip saddr 172.28.0.2 udp dport 53 dnat ip to 172.28.0.1:4001" in text
    assert (
        "ip saddr 172.28.0.2 ip daddr != 172.28.0.0/24 meta l4proto tcp dnat ip to 172.28.0.1:4000"
        in text
    )
