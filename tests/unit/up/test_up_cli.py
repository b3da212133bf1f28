"""The project commands without root: `up --dry-run` plans, ps/ls on recorded state, root checks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from compose.cli import run
from compose.state import PortRecord, ProjectRecord, ReplicaRecord, StateStore, process_start_time

REPO = Path(__file__).resolve().parents[3]
WEB_DB = str(REPO / "examples" / "stacks" / "web-db" / "compose.yaml")
TEST_ENV = str(REPO / "examples" / "stacks" / "test-env" / "compose.yaml")


def test_up_dry_run_prints_the_plan_in_dependency_order(capsys):
    assert run(["-f", WEB_DB, "up", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Network web-db_default  Create",
        "Volume web-db_redis-data  Create",
        "Container web-db-redis-1  Create",
        "Container web-db-redis-1  Start",
        "Container web-db-web-1  Create",
        "Container web-db-web-1  Start",
    ]


def test_global_dry_run_and_scale(capsys):
    assert run(["-f", TEST_ENV, "--dry-run", "up", "--scale", "tests=2", "--no-deps", "tests"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Network test-env_default  Create",
        "Container test-env-tests-1  Create",
        "Container test-env-tests-1  Start",
        "Container test-env-tests-2  Create",
        "Container test-env-tests-2  Start",
    ]


def test_unknown_service_is_a_user_error(capsys):
    assert run(["-f", WEB_DB, "up", "--dry-run", "nosuch"]) == 1
    assert 'no such service: "nosuch"' in capsys.readouterr().err


def test_down_dry_run_from_records(capsys):
    store = StateStore("web-db")
    store.save_project(ProjectRecord("web-db"))
    store.save_replica(ReplicaRecord("web-db", "web", 1, status="exited"))
    assert run(["-f", WEB_DB, "down", "--dry-run", "-v"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["Container web-db-web-1  Remove", "Volume web-db_redis-data  Remove"]


@pytest.mark.parametrize(
    "argv", [["up", "-d"], ["down"], ["stop"], ["kill"], ["exec", "web", "ls"]]
)
def test_mutating_commands_need_root(monkeypatch, capsys, argv):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert run(["-f", WEB_DB, *argv]) == 1
    err = capsys.readouterr().err
    assert "needs root" in err and "hint:" in err


def recorded_project() -> None:
    me, start = os.getpid(), process_start_time(os.getpid())
    store = StateStore("demo")
    store.save_project(ProjectRecord("demo", config_files=("/x/compose.yaml",)))
    ports = (PortRecord(8000, 8080),)
    store.save_replica(
        ReplicaRecord(
            "demo",
            "web",
            1,
            image="py",
            command="python3 app.py",
            pid=me,
            start_time=start,
            status="running",
            ports=ports,
            health="healthy",
            created=1.0,
            started_at=1.0,
        )
    )
    store.save_replica(ReplicaRecord("demo", "job", 1, image="bb", status="exited", exit_code=3))


def test_ps_table_and_json(capsys):
    recorded_project()
    assert run(["-p", "demo", "ps"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"]
    assert len(table) == 2 and "demo-web-1" in table[1] and "(healthy)" in table[1]
    assert "0.0.0.0:8080->8000/tcp" in table[1]
    assert run(["-p", "demo", "ps", "-a", "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["Name"], r["State"], r["ExitCode"]) for r in rows] == [
        ("demo-job-1", "exited", 3),
        ("demo-web-1", "running", 0),
    ]
    ipv4 = {"URL": "0.0.0.0", "TargetPort": 8000, "PublishedPort": 8080, "Protocol": "tcp"}
    assert rows[1]["Publishers"] in ([ipv4], [ipv4, {**ipv4, "URL": "::"}])  # :: with IPv6
    assert {"ID", "Project", "Service", "Health", "Labels", "Networks"} <= set(rows[1])


def test_ps_filters_and_ls(capsys):
    recorded_project()
    assert run(["-p", "demo", "ps", "--status", "exited", "--format", "{{.Name}}"]) == 0
    assert capsys.readouterr().out.split() == ["demo-job-1"]
    assert run(["-p", "demo", "ps", "--status", "exited", "-q"]) == 0
    (ident,) = capsys.readouterr().out.split()
    assert len(ident) == 64 and int(ident, 16) >= 0  # -q prints full IDs, as docker's
    assert run(["-p", "demo", "ps", "--services", "-a"]) == 0
    assert capsys.readouterr().out.split() == ["job", "web"]
    assert run(["ls", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"Name": "demo", "Status": "exited(1), running(1)", "ConfigFiles": "/x/compose.yaml"}
    ]


def test_ps_does_not_import_heavy_modules():
    import subprocess
    import sys

    code = (
        "import sys; from compose.cli import run; run(['-p', 'nothing', 'ps']);"
        "print(sorted(m for m in ('pyroute2', 'httpx', 'rich', 'anyio') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
