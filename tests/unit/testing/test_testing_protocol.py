"""The test-environment verbs cross the socket intact (one JSON line each way)."""

from __future__ import annotations

import json

from compose.planner.desired import UpOptions
from compose.stackfile.types import LoadOptions
from compose.supervisor import protocol as p
from compose.supervisor.machine.linux import _tcp_ports
from compose.supervisor.options import TEST, Owner, RunOptions


def roundtrip(request: p.Request) -> p.Request:
    return p.request_from_json(json.loads(json.dumps(request.to_json())))


def test_requests_roundtrip():
    owner = Owner(42, 777, True, 1.5, {"io.pycompose.test.run": "r"})
    for request in (
        p.Own(owner),
        p.Own(None, kept="why"),
        p.Ready(("db",), 5.0),
        p.Snapshot("seeded", ("db",)),
        p.Restore("seeded", (), 30.0),
        p.Exec("db", 2, ("redis-cli", "ping"), ("A=1",), "redis", "/data", "aGk=", 3.0),
    ):
        assert roundtrip(request) == request


def test_a_launch_carries_the_owner_and_test_readiness():
    run = RunOptions(detach=True, wait=True, owner=Owner(7, None), readiness=TEST)
    launch = p.Launch(LoadOptions(files=("a.yaml",)), UpOptions(), run)
    back = p.decode(p.Launch, json.loads(json.dumps(p.encode(launch))))
    assert back.run == run and back.run.owner == Owner(7, None)


def test_replies_roundtrip():
    reply = p.Snapshotted("s", ("v",), ("r-1",), 0.5, 10, 1, (), {"stop": 0.1})
    assert p.decode(p.Snapshotted, json.loads(json.dumps(p.encode(reply)))) == reply


def test_tcp_ports_from_expose_and_ports_texts():
    assert sorted(_tcp_ports(["6379/tcp", "8000", "53/udp", "9000-9002"])) == [
        6379, 8000, 9000, 9001, 9002,
    ]  # fmt: skip
