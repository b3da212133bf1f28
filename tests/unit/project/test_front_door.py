"""The front door: typed requests and replies cross the socket unchanged, and the client is
importable cheaply (the CLI's start-up path and the Python API go through it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compose.errors import UnknownServiceError
from compose.planner.desired import DownOptions, UpOptions
from compose.project import ProjectClient
from compose.stackfile.types import LoadOptions
from compose.state import ProjectRecord, ReplicaRecord, StateStore
from compose.supervisor import protocol as p
from compose.supervisor.options import RunOptions

REQUESTS = [
    p.Status(),
    p.Apply(
        LoadOptions(files=("/w/compose.yaml",), environ={"A": "1"}, cwd=Path("/w"), stdin="x"),
        UpOptions(services=("web",), no_deps=True, scale={"web": 3}),
        "always",
        True,
        5.0,
    ),
    p.Down(DownOptions(remove_volumes=True), 3.0),
    p.Stop(("web", "db"), 1.5),
    p.Start(),
    p.Restart(("web",)),
    p.Kill(("web",), 15),
    p.Pause(("web",)),
    p.Unpause(),
    p.Remove(("web",), volumes=True),
    p.Scale({"web": 2}, True, 30.0),
]
REPLIES = [
    p.StatusReply(10, True, (p.ReplicaStatus("p-web-1", "web", 1, "running", "healthy"),)),
    p.PlanReply(("Container p-web-1  Create",), ("orphans",), ()),
    p.DownReply(("Network p_default  Remove",), (), ("boom",), pid=42),
    p.Changed("Stopped", ("p-web-1", "p-web-2")),
    p.Scaled(("p-web-3",), (), (), ("w",)),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: r.op)
def test_every_request_round_trips_its_json_form(request_: p.Request) -> None:
    assert p.request_from_json(request_.to_json()) == request_


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: type(r).__name__)
def test_every_reply_round_trips_its_json_form(reply: p.Reply) -> None:
    assert p.decode(type(reply), {"ok": True, **p.encode(reply)}) == reply


def test_the_launch_of_a_detached_supervisor_round_trips() -> None:
    launch = p.Launch(
        LoadOptions(files=("-",), stdin="services: {}"),
        UpOptions(),
        RunOptions(detach=True, attach=("web",)),
    )
    assert p.decode(p.Launch, p.encode(launch)) == launch


def test_an_unknown_request_is_an_error() -> None:
    with pytest.raises(Exception, match="unknown request 'nope'"):
        p.request_from_json({"op": "nope"})


def test_verbs_on_a_service_without_containers_say_so() -> None:
    store = StateStore("demo")
    store.save_project(ProjectRecord("demo", services=("web", "db")))
    store.save_replica(ReplicaRecord("demo", "web", 1, status="exited"))
    client = ProjectClient(LoadOptions(), name="demo")
    assert [r.name for r in client.replicas(("web",))] == ["demo-web-1"]
    with pytest.raises(UnknownServiceError, match='service "db" has no containers'):
        client.kill(("db",))
    with pytest.raises(UnknownServiceError, match='no such service: "dbb"'):  # docker's words
        client.stop(("dbb",))


def test_the_front_door_imports_neither_the_loop_nor_the_model() -> None:
    probe = (
        "import sys; import compose.project.client, compose.cli.commands._project;"
        "heavy = ['anyio', 'pydantic', 'compose.supervisor.core', 'compose.supervisor.machine',"
        " 'compose.runtime', 'netplug', 'compose.model', 'rich', 'httpx'];"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_projects_name_and_services_are_remembered_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYCOMPOSE_CACHE_DIR", str(tmp_path / "cache"))
    stack = tmp_path / "compose.yaml"
    stack.write_text("name: shop\nservices:\n  web:\n    image: busybox\n")
    load = LoadOptions(files=(str(stack),), cwd=tmp_path, environ={})
    first = ProjectClient(load)
    assert (first.name, first.known_services()) == ("shop", {"web"})
    again = ProjectClient(load)
    assert (again.name, again.known_services()) == ("shop", {"web"})
    assert again._loaded is None  # from the memo: the file was not parsed again
    stack.write_text("name: shop2\nservices:\n  web:\n    image: busybox\n  db:\n    image: x\n")
    changed = ProjectClient(load)
    assert (changed.name, changed.known_services()) == ("shop2", {"web", "db"})
    with pytest.raises(UnknownServiceError):
        changed.check_services(["cache"])
