"""`watch`: a saved file is visible inside the running container (deleted ones go, ignored ones
stay out), `initial_sync` copies at the start, `sync+exec` runs its command after the sync,
`sync+restart` restarts, and a change under a `rebuild` path recreates the service
from a freshly built image."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from e2e_helpers import Cli, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(300)]

SYNC_STACK = """
services:
  web:
    image: IMAGE
    command: SLEEP
    develop:
      watch:
        - action: sync
          path: ./src
          target: /app
          ignore: ["*.tmp"]
          initial_sync: true
        - action: sync+exec
          path: ./hooks
          target: /hooks
          exec: {command: ["sh", "-c", "cat /hooks/h.txt > /tmp/ran"]}
        - action: sync+restart
          path: ./conf
          target: /etc/conf
"""

REBUILD_STACK = """
services:
  app:
    build: ./app
    command: SLEEP
    develop:
      watch:
        - action: rebuild
          path: ./app/version.txt
"""


class Watching:
    """`pycompose watch` in the background; its stderr lines collected."""

    def __init__(self, cli: Cli, *args: str) -> None:
        env = {**os.environ, **cli.env}
        self.proc = subprocess.Popen(
            cli.argv("--progress", "plain", "watch", *args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []

    def wait_line(self, text: str, timeout: float = 90) -> None:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            self.lines.append(line.rstrip("\n"))
            if text in line:
                return
        raise AssertionError(f"no {text!r} in watch's output:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def container_file(cli: Cli, service: str, path: str) -> str | None:
    proc = cli.run("exec", "-T", service, "cat", path, check=False)
    return proc.stdout if proc.returncode == 0 else None


def test_sync_and_sync_restart(project, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "keep.txt").write_text("one\n")
    (tmp_path / "conf").mkdir()
    (tmp_path / "hooks").mkdir()
    cli = Cli(project, file=write_stack(tmp_path, SYNC_STACK))
    watch = Watching(cli)
    try:
        watch.wait_line("Watch enabled")
        assert container_file(cli, "web", "/app/keep.txt") == "one\n"  # initial_sync
        (tmp_path / "hooks" / "h.txt").write_text("hooked\n")
        assert wait_for(lambda: container_file(cli, "web", "/tmp/ran") == "hooked\n")  # exec
        (tmp_path / "src" / "keep.txt").write_text("two\n")
        assert wait_for(lambda: container_file(cli, "web", "/app/keep.txt") == "two\n")
        watch.wait_line('Syncing service "web" after 1 changes were detected')
        (tmp_path / "src" / "deep" / "er").mkdir(parents=True)
        (tmp_path / "src" / "deep" / "er" / "new.txt").write_text("new\n")
        (tmp_path / "src" / "scratch.tmp").write_text("ignored\n")
        assert wait_for(lambda: container_file(cli, "web", "/app/deep/er/new.txt") == "new\n")
        (tmp_path / "src" / "keep.txt").unlink()
        assert wait_for(lambda: container_file(cli, "web", "/app/keep.txt") is None)
        assert container_file(cli, "web", "/app/scratch.tmp") is None  # `ignore: [*.tmp]`
        listing = cli.run("exec", "-T", "web", "stat", "-c", "%a", "/app/deep").stdout
        assert listing.strip() == "755"  # made as docker makes them, whatever our umask
        before = _started(cli, "web")
        (tmp_path / "conf" / "app.ini").write_text("x=1\n")
        watch.wait_line('service(s) ["web"] restarted')
        assert container_file(cli, "web", "/etc/conf/app.ini") == "x=1\n"
        assert _started(cli, "web") != before
    finally:
        assert watch.stop() == 130


def test_rebuild_recreates_the_service_from_the_new_image(project, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text(
        f"FROM {os.environ['BUSYBOX_IMAGE']}\nCOPY version.txt /version.txt\n"
    )
    (app / "version.txt").write_text("v1\n")
    cli = Cli(project, file=write_stack(tmp_path, REBUILD_STACK))
    watch = Watching(cli)
    try:
        watch.wait_line("Watch enabled", timeout=180)
        assert container_file(cli, "app", "/version.txt") == "v1\n"
        first = _ids(cli)["app"]
        (app / "version.txt").write_text("v2\n")
        watch.wait_line('Rebuilding service(s) ["app"]')
        watch.wait_line('service(s) ["app"] successfully built', timeout=180)
        assert wait_for(lambda: container_file(cli, "app", "/version.txt") == "v2\n")
        assert _ids(cli)["app"] != first  # a new container, from the new image
    finally:
        watch.stop()


def test_watch_without_rules_is_an_error_before_anything_starts(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, "services:\n  web:\n    image: IMAGE\n"))
    proc = cli.run("watch", check=False)
    assert proc.returncode == 1 and "none of the selected services is configured for watch" in (
        proc.stderr
    )
    assert cli.run("ps", "-a", "-q").stdout == ""


def _ids(cli: Cli) -> dict[str, str]:
    lines = cli.run("ps", "--format", "json").stdout.splitlines()
    return {json.loads(x)["Service"]: json.loads(x)["ID"] for x in lines}


def _started(cli: Cli, service: str) -> float:
    records = Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "projects" / cli.project / "replicas"
    docs = [json.loads(p.read_text()) for p in records.glob("*.json")]
    return next(d["started_at"] for d in docs if d["service"] == service)
