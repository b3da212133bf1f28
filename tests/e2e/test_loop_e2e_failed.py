"""A service the control loop gives up on: a terminal reconcile error (retrying cannot help)
marks it failed, and the user sees it in `ps` and `events`; the next `scale` is a new attempt
that clears the mark once it works. And an image removed from the store since `up` is pulled
again by `scale` instead of failing every retry."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from e2e_helpers import Cli, write_stack

from compose.supervisor import api

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(90)]

STACK = """
services:
  web:
    image: IMAGE
    command: SLEEP
    volumes:
      - type: bind
        source: ./site
        target: /site
        read_only: true
        bind: {create_host_path: false}
"""


def events(cli: Cli, action: str) -> list[dict]:
    out = cli.run("events", "--json", "--since", "0", "--until", str(time.time())).stdout
    return [e for e in map(json.loads, out.splitlines()) if e["action"] == action]


def running(cli: Cli) -> list[str]:
    out = cli.run("ps", "--format", "json").stdout.splitlines()
    return sorted(r["Name"] for r in map(json.loads, out) if r["State"] == "running")


def test_scale_onto_a_removed_bind_source_marks_the_service_failed(project, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    cli.run("up", "-d")
    site.rmdir()  # `create_host_path: false`: a new replica cannot be made without it

    scaled = cli.run("scale", "web=3", check=False)
    cause = f"bind source path does not exist: {site}"
    print("scale said:", scaled.stderr)
    assert scaled.returncode == 1 and f'error: service "web": {cause}' in scaled.stderr
    ps = cli.run("ps")
    print("ps said:", ps.stdout, ps.stderr, sep="\n")
    assert ps.stderr.splitlines() == [f'service "web" failed: {cause}']
    assert [line.split()[0] for line in ps.stdout.splitlines()[1:]] == [f"{project}-web-1"]
    failed = events(cli, "failed")
    print("events:", failed)
    assert [(e["service"], e["error"]) for e in failed] == [("web", cause)]

    site.mkdir()
    cli.run("scale", "web=3")  # the same count again: a new attempt, and now it works
    assert running(cli) == [f"{project}-web-{n}" for n in (1, 2, 3)]
    assert cli.run("ps").stderr == ""  # the mark is gone


def test_a_failed_mark_ends_with_the_supervisor_that_set_it(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    (tmp_path / "site").mkdir()
    cli.run("up", "-d")
    (tmp_path / "site").rmdir()
    assert cli.run("scale", "web=2", check=False).returncode == 1
    assert "failed" in cli.run("ps").stderr
    os.kill(api.call(project, {"op": "status"})["pid"], signal.SIGKILL)
    cli.run("up", "-d")  # a new supervisor: it adopts web-1 and keeps the file's count
    assert running(cli) == [f"{project}-web-1"]
    assert cli.run("ps").stderr == ""  # no stale "failed" from the one killed


def test_scale_pulls_an_image_removed_since_up(project, tmp_path):
    stack = "services:\n  web:\n    image: IMAGE\n    command: SLEEP\n"
    cli = Cli(project, file=write_stack(tmp_path, stack + "    deploy: {replicas: 0}\n"))
    cli.run("up", "-d")  # pulls the image; no container uses it, so `image rm` may remove it
    image = os.environ["BUSYBOX_IMAGE"]
    cli.run("image", "rm", image)
    assert image.rsplit(":", 1)[0].split("/", 1)[1] not in cli.run("image", "ls").stdout

    cli.run("scale", "web=2", timeout=60)
    assert running(cli) == [f"{project}-web-1", f"{project}-web-2"]
    assert "busybox" in cli.run("image", "ls").stdout
    assert events(cli, "reconcile-error") == []


def test_scale_refuses_a_fixed_address_at_once(project, tmp_path):
    """Two replicas cannot share a fixed IP: refused before the loop tries (it used to retry
    "ipv4_address … is already in use" until the scale timed out)."""
    stack = """
services:
  web:
    image: IMAGE
    command: SLEEP
    networks:
      front: {ipv4_address: 172.31.77.10}
networks:
  front:
    ipam: {config: [{subnet: 172.31.77.0/24}]}
"""
    net = f"172.31.{int(project[-2:], 16)}"  # a subnet of this test's own
    cli = Cli(project, file=write_stack(tmp_path, stack.replace("172.31.77", net)))
    cli.run("up", "-d")
    began = time.monotonic()
    refused = cli.run("scale", "web=2", check=False)
    assert time.monotonic() - began < 5
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.splitlines() == [
        f'error: service "web": ipv4_address {net}.10 (network "front") is set; '
        "it cannot be scaled to 2 replicas",
        "hint: remove ipv4_address to run several replicas",
    ]
    assert running(cli) == [f"{project}-web-1"]
    assert events(cli, "reconcile-error") == []
