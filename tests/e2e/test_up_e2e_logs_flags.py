"""`logs -t --no-log-prefix --tail --since` and `up --timestamps --no-log-prefix` as docker
compose prints them."""

from __future__ import annotations

import re
import time

import pytest
from e2e_helpers import Cli, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(240)]

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z"
STACK = """
services:
  svc:
    image: IMAGE
    command: ["sh", "-c", "echo one; echo two; echo three; trap 'exit 0' TERM; sleep 1000 & wait"]
"""
ONESHOT = """
services:
  hello:
    image: IMAGE
    command: ["echo", "hello there"]
"""


def test_logs_flags(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    cli.run("up", "-d")
    wait_for(lambda: "three" in cli.run("logs").stdout)
    assert cli.run("logs", "--no-color").stdout.splitlines() == [
        "svc-1  | one",
        "svc-1  | two",
        "svc-1  | three",
    ]
    stamped = cli.run("logs", "-t", "--no-log-prefix").stdout.splitlines()
    assert [re.fullmatch(f"{STAMP} (\\w+)", ln)[1] for ln in stamped] == ["one", "two", "three"]
    assert cli.run("logs", "--tail", "1").stdout == "svc-1  | three\n"
    assert cli.run("logs", "--tail", "0").stdout == ""
    assert len(cli.run("logs", "--since", "1h").stdout.splitlines()) == 3
    assert cli.run("logs", "--since", str(int(time.time()) + 60)).stdout == ""
    assert len(cli.run("logs", "--since", "2020-01-01T00:00:00Z").stdout.splitlines()) == 3
    bad = cli.run("logs", "--since", "yesterday", check=False)
    assert bad.returncode == 1 and "duration" in bad.stderr


def test_foreground_up_timestamps_without_prefix(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, ONESHOT))
    out = cli.run("up", "--timestamps", "--no-log-prefix").stdout
    assert re.search(f"^{STAMP} hello there$", out, re.M), out
    out = cli.run("up", "--no-color").stdout
    assert re.search(r"^hello-1  \| hello there$", out, re.M), out
