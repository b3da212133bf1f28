"""A published host port another process already holds: `up` fails as docker compose's does
(exit 1, "Bind for 0.0.0.0:PORT failed: port is already allocated") and leaves nothing behind,
where docker leaves a created container and its network. The holder keeps its port."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from e2e_helpers import Cli, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(120)]

STACK = """
services:
  web:
    image: IMAGE
    command: ["httpd", "-f", "-p", "80", "-h", "/"]
    ports: ["{port}:80"]
  other:
    image: IMAGE
    command: SLEEP
"""


def holder(address: str) -> socket.socket:
    """A listener of this test on ``address`` (an ephemeral port), as any other program."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((address, 0))
    sock.listen(8)
    return sock


def project_left(project: str) -> list[str]:
    import os

    state = Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "projects" / project
    return (
        sorted(str(p.relative_to(state)) for p in state.rglob("*.json")) if state.exists() else []
    )


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0", "::1"])
@pytest.mark.parametrize("detach", [True, False], ids=["up -d", "up"])
def test_up_refuses_a_port_another_process_holds(project, tmp_path, address, detach):
    if address == "::1" and not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    sock = holder(address)
    port = sock.getsockname()[1]
    cli = Cli(project, file=write_stack(tmp_path, STACK.format(port=port)))
    with sock:
        up = cli.run("up", *(["-d"] if detach else []), check=False, timeout=60)
        assert up.returncode == 1, up.stdout + up.stderr
        assert f"Bind for 0.0.0.0:{port} failed: port is already allocated" in up.stderr
        assert 'service "web"' in up.stderr
        ps = cli.run("ps", "-a", "--format", "json").stdout
        assert [json.loads(line)["Name"] for line in ps.splitlines()] == []
        assert project_left(project) == []  # no records, no network: nothing half-created
        sock.settimeout(0.5)  # the holder still has its port: nothing of ours answers there
        with pytest.raises(TimeoutError):
            sock.accept()


def test_a_port_of_the_project_itself_is_not_a_conflict(project, tmp_path):
    """A second `up -d` and a recreation keep publishing the port the project already holds."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = write_stack(tmp_path, STACK.format(port=port))
    cli = Cli(project, file=path)
    cli.run("up", "-d")
    cli.run("up", "-d")
    path.write_text(path.read_text().replace('"-h", "/"', '"-h", "/etc"'))
    cli.run("up", "-d")  # web is recreated on the same published port
    names = [
        json.loads(line)["Name"] for line in cli.run("ps", "--format", "json").stdout.splitlines()
    ]
    assert sorted(names) == [f"{project}-other-1", f"{project}-web-1"]


def test_a_running_project_refuses_a_taken_port_and_keeps_its_replica(project, tmp_path):
    """`up -d` forwarded to the project's supervisor: the edit that publishes a held port is
    refused (exit 1) and the replica it would have recreated keeps running."""
    sock = holder("127.0.0.1")
    port = sock.getsockname()[1]
    path = write_stack(tmp_path, STACK.format(port=port).replace(f'ports: ["{port}:80"]', ""))
    cli = Cli(project, file=path)
    cli.run("up", "-d")
    before = json.loads(cli.run("ps", "--format", "json", "web").stdout)["ID"]
    path.write_text(write_stack(tmp_path, STACK.format(port=port)).read_text())
    with sock:
        up = cli.run("up", "-d", check=False)
        assert up.returncode == 1, up.stdout + up.stderr
        assert f"Bind for 0.0.0.0:{port} failed: port is already allocated" in up.stderr
    after = json.loads(cli.run("ps", "--format", "json", "web").stdout)
    assert (after["ID"], after["State"]) == (before, "running")
