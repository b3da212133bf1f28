"""compose.testing.Stack in this process: addresses without published ports, exec, env, logs,
scale/stop/start, snapshot/restore (a key written since the snapshot is gone; a 100 MB volume's
restore measured and printed), and a failed up torn down with its explanation."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from e2e_helpers import UNHEALTHY, leaks, wait_for, write_stack

from compose.errors import StackError
from compose.testing import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pytest" / "compose.yaml"


def redis(stack: Stack, *command: str) -> bytes:
    payload = f"*{len(command)}\r\n" + "".join(f"${len(c)}\r\n{c}\r\n" for c in command)
    with socket.create_connection(stack.address("redis", 6379), timeout=5) as conn:
        conn.sendall(payload.encode())
        return conn.recv(65536)


def no_leaks(project: str) -> list[str]:
    return leaks(
        project, Path(os.environ["PYCOMPOSE_STATE_DIR"]), Path(os.environ["PYCOMPOSE_RUN_DIR"])
    )


def test_a_stack_from_up_to_down(images_env, isolated_dirs):
    with Stack(EXAMPLE, env={"GREETING": "hi"}) as stack:
        project = stack.project
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")  # this suite's own worker
        assert project.startswith("pytest-example-") and project.endswith(f"-{worker}")
        ip, port = stack.address("redis", 6379)
        assert ip.count(".") == 3 and port == 6379  # the bridge IP: nothing is published
        assert redis(stack, "PING") == b"+PONG\r\n"
        assert stack.exec("redis", "redis-cli", "ping").output == "PONG\n"
        assert stack.exec("web", "sh", "-c", "cat; exit 4", input="fed").output == "fed"
        assert stack.exec("web", "sh", "-c", "exit 4").exit_code == 4
        assert stack.env("web")["GREETING"] == "hi"
        assert "listening on :8000" in stack.logs("web")
        assert stack.url("web", 8000, path="x") == f"http://{stack.address('web', 8000)[0]}:8000/x"

        stack.scale("web", 2)
        assert stack.address("web", 8000, index=2)[0] != stack.address("web", 8000)[0]
        stack.stop("web")
        with pytest.raises(Exception, match="not running"):
            stack.address("web", 8000)
        stack.start("web")
        assert stack.exec("web", "true").ok
    assert no_leaks(project) == []


def test_restore_forgets_what_was_written_since_the_snapshot(images_env, isolated_dirs):
    with Stack(EXAMPLE) as stack:
        assert redis(stack, "SET", "kept", "1") == b"+OK\r\n"
        taken = stack.snapshot("seeded")
        assert taken.volumes == (f"{stack.project}_redis-data",)
        assert redis(stack, "SET", "scratch", "1") == b"+OK\r\n"
        restored = stack.restore("seeded")
        assert redis(stack, "GET", "scratch") == b"$-1\r\n"
        assert redis(stack, "GET", "kept") == b"$1\r\n1\r\n"
        assert restored.replicas == (f"{stack.project}-redis-1",)
        again = stack.restore("seeded")
        print(
            f"\nrestore of a small redis volume: {restored.seconds * 1000:.0f} ms "
            f"(copied {restored.copied_bytes} B; {restored.phases}); nothing changed: "
            f"{again.seconds * 1000:.0f} ms, copied {again.copied_files} files"
        )
        with pytest.raises(StackError, match='no snapshot "other"'):
            stack.restore("other")


BIG = 100 * 1024 * 1024


def test_restore_of_a_100_mb_volume_is_measured(images_env, isolated_dirs):
    with Stack(EXAMPLE) as stack:
        seed = "head -c 104857600 /dev/urandom > /data/seed.bin && sync"
        assert stack.exec("redis", "sh", "-c", seed, timeout=120).ok
        taken = stack.snapshot()
        assert taken.copied_bytes >= BIG
        redis(stack, "SET", "scratch", "1")  # the AOF changes, the 100 MB file does not
        small = stack.restore()
        assert small.copied_bytes < BIG
        assert redis(stack, "GET", "scratch") == b"$-1\r\n"
        stack.exec("redis", "sh", "-c", "echo x >> /data/seed.bin").check()  # it changes too
        whole = stack.restore()
        assert whole.copied_bytes >= BIG
        size = stack.exec("redis", "stat", "-c", "%s", "/data/seed.bin").output.strip()
        assert int(size) == BIG
        print(
            f"\n100 MB volume: snapshot {taken.seconds * 1000:.0f} ms; restore when the tests "
            f"changed a small file {small.seconds * 1000:.0f} ms ({small.phases}); when they "
            f"rewrote the 100 MB file {whole.seconds * 1000:.0f} ms ({whole.phases})"
        )


def test_a_failed_up_is_torn_down_and_names_the_service(images_env, isolated_dirs, tmp_path):
    compose = write_stack(tmp_path, UNHEALTHY)
    stack = Stack(compose, project="sick", timeout=120)
    started = time.monotonic()
    with pytest.raises(StackError) as failed:
        stack.up()
    text = str(failed.value)
    assert 'service "bad": container' in text and "is unhealthy" in text
    assert "last probe: exit 1: not today" in text and "| bad is starting" in text
    # at once, not at the deadline (a wide margin: the up itself is slow on a loaded machine)
    assert time.monotonic() - started < 60
    # the other one never accepted on its port: named too, with the refusal
    assert 'service "quiet" is not ready either' in text
    assert ":9999: Connection refused" in text
    assert no_leaks(stack.project) == []
    assert not stack.client.observe().replicas


SLEEPER = """
services:
  idle:
    image: IMAGE
    command: SLEEP
"""

OWNER = """
import sys, time
from compose.testing import Stack
stack = Stack(sys.argv[1], project="orphan")
stack.up()
print(stack.project, flush=True)
time.sleep(600)
"""


def test_orphans_of_dead_owners_are_swept(images_env, isolated_dirs, tmp_path):
    """Owner and supervisor both killed -9 (a CI runner killing everything): the containers
    live on; the next session's sweep brings the project down."""
    import signal
    import subprocess
    import sys

    from e2e_helpers import supervisors

    from compose.testing.sweep import orphans, sweep

    compose = write_stack(tmp_path, SLEEPER)
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(compose)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        project = owner.stdout.readline().strip()
        assert project.startswith("orphan-")
        for pid in supervisors():
            os.kill(pid, signal.SIGKILL)
        owner.kill()
        owner.wait()
        wait_for(lambda: not supervisors(), timeout=10)
        assert [name for name, _ in orphans()] == [project]
        assert sweep() == [project]
        assert orphans() == []
        assert no_leaks(project) == []
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
