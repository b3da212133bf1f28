"""/etc/hosts and link variables of a replica (pure): what a container resolves by file."""

from __future__ import annotations

from pathlib import Path

from compose.model import Stack, stack_from_tree
from compose.stackfile import LoadedStack, SourceMap
from compose.state import ReplicaRecord
from compose.supervisor.machine import etcfiles


def _stack(services: dict) -> Stack:
    tree = {"services": {k: {"image": "busybox", **v} for k, v in services.items()}}
    return stack_from_tree(LoadedStack("p", Path("/w"), (), {}, tree, SourceMap(), (), frozenset()))


def _rec(service: str, index: int, ip: str, status: str = "running") -> ReplicaRecord:
    return ReplicaRecord("p", service, index, status=status, ips={"default": ip})


def test_hosts_names_a_scaled_service_only_by_container_name():
    stack = _stack({"web": {"links": ["db:database"]}, "db": {}, "cache": {}})
    records = [
        _rec("web", 1, "10.0.0.2"),
        _rec("db", 1, "10.0.0.3"),
        _rec("cache", 1, "10.0.0.4"),
        _rec("cache", 2, "10.0.0.5"),
        _rec("cache", 3, "10.0.0.6", status="exited"),
    ]
    web = stack.services["web"]
    text = etcfiles.hosts_text(web, records[0], ("10.0.0.2",), records)
    lines = [line.split() for line in text.splitlines() if line.startswith("10.")]
    own = etcfiles.hostname(web, records[0])
    assert lines[0] == ["10.0.0.2", own, "p-web-1", "web", "web-1"]
    assert ["10.0.0.3", "database", "p-db-1"] in lines  # the link, then the peer
    assert ["10.0.0.3", "db", "p-db-1"] in lines  # one replica: also by service name
    assert ["10.0.0.4", "p-cache-1"] in lines and ["10.0.0.5", "p-cache-2"] in lines
    assert not any("10.0.0.6" in line for line in lines)  # exited: gone


def test_link_variables_point_at_the_lowest_replica():
    stack = _stack({"web": {"links": ["db"]}, "db": {"environment": {"PW": "x"}}})
    records = [_rec("db", 2, "10.0.0.4"), _rec("db", 1, "10.0.0.3")]
    env = etcfiles.link_env("p-web-2", stack.services["web"], stack, records, {"db": ["5432/tcp"]})
    assert "DB_PORT=tcp://10.0.0.3:5432" in env and "DB_ENV_PW=x" in env
    assert "DB_NAME=/p-web-2/db" in env  # docker: /<linking container>/<alias>


def test_hosts_lists_ipv6_addresses_as_docker_writes_them():
    """The replica's own IPv6 address gets a line with its names (docker's), so do its peers
    and the link to a target with one."""
    stack = _stack({"web": {"links": ["db"]}, "db": {}})
    db = ReplicaRecord("p", "db", 1, status="running", ips={"default": "10.0.0.3"})
    db = db.replace(ips6={"default": "fd00::3"})
    web = ReplicaRecord("p", "web", 1, status="running")
    own = ("10.0.0.2", "fd00::2")
    text = etcfiles.hosts_text(stack.services["web"], web, own, [db])
    lines = [line.split() for line in text.splitlines()]
    name = etcfiles.hostname(stack.services["web"], web)
    assert ["fd00::2", name, "p-web-1", "web", "web-1"] in lines
    assert ["fd00::3", "db", "p-db-1"] in lines and ["10.0.0.3", "db", "p-db-1"] in lines


def test_each_replica_of_a_refresh_sees_the_others_and_not_itself():
    """One ``Peers`` renders every file of a refresh: each replica gets its own line, its
    siblings by container name only, and the service name only while it runs alone."""
    stack = _stack({"web": {}, "db": {}})
    records = [_rec("web", 1, "10.0.0.2"), _rec("web", 2, "10.0.0.3"), _rec("db", 1, "10.0.0.4")]
    peers = etcfiles.Peers(records)
    texts = {
        rec.name: peers.hosts_text(stack.services[rec.service], rec, (ip,))
        for rec, ip in zip(records, ("10.0.0.2", "10.0.0.3", "10.0.0.4"), strict=True)
    }
    for rec in records:
        assert texts[rec.name] == etcfiles.hosts_text(
            stack.services[rec.service], rec, (rec.ips["default"],), records
        )
    web1 = [line.split()[1:] for line in texts["p-web-1"].splitlines() if line.startswith("10.")]
    assert web1[1:] == [["p-web-2"], ["db", "p-db-1"]]  # a sibling only by its container name
    assert "web" not in web1[0]  # two web replicas: the name is left to the DNS
    db = [line.split()[1:] for line in texts["p-db-1"].splitlines() if line.startswith("10.")]
    assert "db" in db[0] and db[1:] == [["p-web-1"], ["p-web-2"]]
