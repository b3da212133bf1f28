"""The pytest plugin (compose.testing) in real pytest sessions, each a subprocess: a passing
suite (examples/pytest under ``-n 2``), a stack per xdist worker, a failing test whose report
(terminal and JUnit) holds the service's log lines of its time window, ``--pycompose-keep``, a
stack whose up fails (unhealthy) torn down with the failure explained, and pytest killed -9
with a stack up: the supervisor (its reaper) brings it down, nothing leaks; a stack started
early (while pytest collects) that no selected test uses goes down again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from e2e_helpers import UNHEALTHY, leaks, wait_for, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.serial, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pytest"

CONFTEST = f"""
from compose.testing import stack_fixture

stack = stack_fixture({str(EXAMPLE / "compose.yaml")!r}, scope="session")
"""


def fresh_env(**extra: str) -> dict[str, str]:
    """The environment of a pytest a user starts: none of this suite's own xdist worker's
    variables (under `-n`, PYTEST_XDIST_WORKER would name the inner session's stacks)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return {**env, **extra}


def pytest_session(
    suite: Path, *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` on ``suite`` (no rootdir ini: the suite stands alone)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(suite), *args],
        cwd=suite,
        env=fresh_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def suite(tmp_path: Path, tests: str, conftest: str = CONFTEST) -> Path:
    root = tmp_path / "suite"
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n")  # rootdir here, not the repository
    (root / "conftest.py").write_text(conftest)
    (root / "test_suite.py").write_text(tests)
    return root


def projects() -> list[dict[str, str]]:
    out = subprocess.run(
        [sys.executable, "-m", "compose", "ls", "-a", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: list[dict[str, str]] = json.loads(out or "[]")
    return found


def no_leaks(project: str) -> list[str]:
    return leaks(
        project, Path(os.environ["PYCOMPOSE_STATE_DIR"]), Path(os.environ["PYCOMPOSE_RUN_DIR"])
    )


def test_the_example_passes_with_a_stack_per_worker(images_env, isolated_dirs):
    proc = pytest_session(EXAMPLE, "-n", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 passed" in proc.stdout
    assert projects() == []  # both workers' stacks went down -v


WORKERS = """
import os, socket, time
from pathlib import Path

def _record(stack):
    ip, _ = stack.address("redis", 6379)
    with socket.create_connection((ip, 6379), timeout=5) as conn:
        conn.sendall(b"PING\\r\\n")
        assert conn.recv(64) == b"+PONG\\r\\n"
    line = f"{os.environ['PYTEST_XDIST_WORKER']} {stack.project} {ip} {time.time():.3f}\\n"
    with open(os.environ["SEEN"], "a") as seen:
        seen.write(line)

def test_a(stack): _record(stack)
def test_b(stack): _record(stack)
"""


def test_each_xdist_worker_gets_its_own_stack(images_env, isolated_dirs, tmp_path, monkeypatch):
    seen = tmp_path / "seen.txt"
    monkeypatch.setenv("SEEN", str(seen))
    # `--dist each`: every worker runs the tests (with `load`, a worker slow to bring its stack
    # up may get none of four)
    proc = pytest_session(suite(tmp_path, WORKERS), "-n", "2", "--dist", "each", "--durations=6")
    print(proc.stdout[-3000:])  # where the time went (once, under load, 206 s, not ~10 s)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split() for line in seen.read_text().splitlines()]
    by_worker = {worker: (project, ip) for worker, project, ip, _ in rows}
    assert len(by_worker) == 2, (rows, proc.stdout)  # both workers ran tests
    assert len({project for project, _ in by_worker.values()}) == 2  # no shared stack
    spans = {w: [float(r[3]) for r in rows if r[0] == w] for w in by_worker}
    (first, a), (second, b) = sorted(spans.items(), key=lambda item: min(item[1]))
    if min(b) <= max(a):  # both stacks up at once: two networks, two subnets
        assert by_worker[first][1] != by_worker[second][1], rows
    for worker, (project, _) in by_worker.items():
        assert project.endswith(f"-{worker}")
    assert projects() == []


FAILING = """
import urllib.request

def test_passes(stack):  # first: the stack's start-up lines fall in its window, not the next
    urllib.request.urlopen(stack.url("web", 8000, path="/before"), timeout=5).read()

def test_fails_after_a_request(stack):
    urllib.request.urlopen(stack.url("web", 8000, path="/marker-in-window"), timeout=5).read()
    assert False, "deliberately failing"
"""


def test_a_failed_test_reports_the_services_log_lines(images_env, isolated_dirs, tmp_path):
    junit = tmp_path / "junit.xml"
    proc = pytest_session(
        suite(tmp_path, FAILING), f"--junitxml={junit}", "-o", "junit_logging=system-out"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "1 failed, 1 passed" in out
    assert "Captured stdout pycompose" in out
    assert "web-1 | web: GET /marker-in-window -> 200" in out
    assert "listening on :8000" not in out and "GET /before" not in out  # earlier lines
    failed = [
        case
        for case in ET.parse(junit).getroot().iter("testcase")
        if case.find("failure") is not None
    ]
    assert len(failed) == 1
    system_out = failed[0].findtext("system-out") or ""
    assert "GET /marker-in-window" in system_out
    assert projects() == []


def test_keep_leaves_the_failed_tests_stack_up(images_env, isolated_dirs, tmp_path):
    proc = pytest_session(suite(tmp_path, FAILING), "--pycompose-keep")
    kept = projects()
    try:
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "pycompose: kept stacks" in proc.stdout
        assert len(kept) == 1 and kept[0]["Owner"].startswith("kept"), kept
        assert f"pycompose -p {kept[0]['Name']} down -v" in proc.stdout
    finally:  # a kept stack outlives the session: this test takes it down whatever happened
        for name in [p["Name"] for p in kept]:
            subprocess.run(
                [sys.executable, "-m", "compose", "-p", name, "down", "-v", "-t", "1"],
                check=True,
                capture_output=True,
            )
            assert no_leaks(name) == []


def test_a_stack_that_does_not_come_up_is_torn_down_and_explained(
    images_env, isolated_dirs, tmp_path
):
    compose = write_stack(tmp_path, UNHEALTHY)
    conftest = (
        f"from compose.testing import stack_fixture\nstack = stack_fixture({str(compose)!r})\n"
    )
    proc = pytest_session(suite(tmp_path, "def test_x(stack):\n    pass\n", conftest))
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "1 error" in out
    assert 'service "bad": container sick-' in out and "is unhealthy" in out
    assert "last probe: exit 1: not today" in out
    assert "| bad is starting" in out  # its last log lines
    assert projects() == []
    assert not list(Path(os.environ["PYCOMPOSE_STATE_DIR"]).glob("volumes/sick-*"))


def test_a_stack_started_early_that_no_selected_test_uses_goes_down(
    images_env, isolated_dirs, tmp_path
):
    """It starts going up while pytest collects (the conftest's import); ``-k`` leaves no
    test that uses it, so it goes down after collection: the session ends with nothing up."""
    tests = "def test_stack(stack):\n    pass\n\ndef test_plain():\n    pass\n"
    proc = pytest_session(suite(tmp_path, tests), "-k", "plain")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed, 1 deselected" in proc.stdout
    assert projects() == []
    assert not list(Path(os.environ["PYCOMPOSE_STATE_DIR"]).glob("volumes/pytest-example-*"))


HANGING = """
import os, time
from pathlib import Path

def test_hangs(stack):
    Path(os.environ["READY"]).write_text(stack.project)
    time.sleep(600)
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_killed_pytest_leaves_nothing_behind(images_env, isolated_dirs, tmp_path, sig):
    ready = tmp_path / "ready"
    root = suite(tmp_path, HANGING)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(root)],
        cwd=root,
        env=fresh_env(READY=str(ready)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_for(ready.exists, timeout=120, interval=0.2)
        project = ready.read_text()
        rows = projects()
        assert [r["Name"] for r in rows] == [project]
        assert rows[0]["Owner"].startswith(f"pid {proc.pid} pytest")  # `ls` shows the owner
        proc.send_signal(sig)
        proc.wait(timeout=30)
        gone_at = time.monotonic()
        wait_for(lambda: projects() == [], timeout=30, interval=0.2)
        wait_for(lambda: no_leaks(project) == [], timeout=30 - (time.monotonic() - gone_at))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
