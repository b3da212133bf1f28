"""Shared test setup.

- Every test gets its own state/run/config dirs (never /var/lib/pycompose or /run/pycompose).
- ``privileged`` tests are skipped, with the reason, where the machine can't run them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Tests send Ctrl-C (SIGINT) to the CLI as a user's terminal does. A suite started in the
# background by a script (`bash .ci/run &`, no job control) inherits SIGINT ignored, and an
# ignored signal stays ignored across exec: `watch` or `logs -f` would never see it (nor
# would docker compose's: checked). A handler here makes every child start with the default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("pycompose")
    for name in ("STATE", "RUN", "CONFIG"):
        path = base / name.lower()
        path.mkdir()
        monkeypatch.setenv(f"PYCOMPOSE_{name}_DIR", str(path))
    cgroup_root = f"pycompose-t{secrets.token_hex(4)}"
    monkeypatch.setenv("PYCOMPOSE_CGROUP_ROOT", cgroup_root)
    umask = os.umask(0o022)  # the CLI run in-process makes its own private (0077): undone here
    os.umask(umask)
    yield base
    os.umask(umask)
    _remove_build_network(base / "state" / "ipam")
    _remove_cgroup_root(cgroup_root)


def _remove_build_network(ipam: Path) -> None:
    """A build keeps its bridge for the next one (as docker keeps docker0), one per state dir:
    the test's own goes with its state dir (most tests never build: a glob decides)."""
    if not any(ipam.glob("_build_*")):
        return
    from compose.build.buildnet import BuildNetwork

    if BuildNetwork(ipam).remove() is None:
        pytest.fail("a build of this test still runs (its build bridge is in use)")


def _remove_cgroup_root(name: str) -> None:
    """Each test's replicas live under its own cgroup root; an empty one is removed here, one
    that still has children after 2 s is a leak and fails the test."""
    roots = [d for d in Path("/sys/fs/cgroup").glob(f"*/{name}") if d.is_dir()]
    deadline = time.monotonic() + 2
    while roots:
        for root in roots:
            with contextlib.suppress(OSError):
                root.rmdir()
        roots = [d for d in roots if d.is_dir()]
        if roots and time.monotonic() > deadline:
            children = sorted(str(c) for d in roots for c in d.iterdir() if c.is_dir())
            pytest.fail(f"leaked cgroups: {children or roots}")
        time.sleep(0.02)


@functools.cache
def _privileged_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        return f"cannot unshare namespaces: {probe.stderr.decode().strip()}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("privileged") or item.get_closest_marker("e2e"):
        reason = _privileged_reason()
        if reason:
            pytest.skip(reason)
