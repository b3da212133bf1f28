"""`logging:` as docker's json-file driver: max-size/max-file rotation keeps the log bounded
and `logs` shows the newest lines across the kept files; `driver: none` keeps nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e_helpers import Cli, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(120)]

STACK = """
services:
  chatty:
    image: IMAGE
    command: ["sh", "-c", "i=0; while [ $$i -lt 3000 ]; do i=$$((i+1)); echo line $$i; done;
      echo done; trap 'exit 0' TERM; sleep 1000 & wait"]
    logging:
      driver: json-file
      options: {max-size: 20k, max-file: "2"}
  quiet:
    image: IMAGE
    command: ["sh", "-c", "echo nobody keeps this; trap 'exit 0' TERM; sleep 1000 & wait"]
    logging:
      driver: none
"""


def test_rotation_bounds_the_log_and_none_keeps_nothing(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    cli.run("up", "-d")
    wait_for(lambda: "done" in cli.run("logs", "--no-log-prefix", "--tail", "1", "chatty").stdout)
    out = cli.run("logs", "--no-log-prefix", "chatty").stdout.splitlines()
    assert out[-1] == "done" and out[-2] == "line 3000"
    assert "line 1" not in out and 0 < len(out) < 3000  # the oldest went with the rotation
    logs = Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "projects" / project / "logs"
    files = sorted(p.name for p in logs.iterdir() if p.name.startswith(f"{project}-chatty-1"))
    assert files == [f"{project}-chatty-1.log", f"{project}-chatty-1.log.1"]
    assert all((logs / f).stat().st_size <= 20 * 1024 for f in files)
    assert cli.run("logs", "quiet").stdout.strip() == ""
