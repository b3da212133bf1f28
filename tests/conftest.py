"""Shared test setup.

- Every test gets its own state/run/config dirs (never /var/lib/pycompose or /run/pycompose).
- ``privileged`` tests are skipped, with the reason, where the machine can't run them.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    base = tmp_path_factory.mktemp("pycompose")
    for name in ("STATE", "RUN", "CONFIG"):
        path = base / name.lower()
        path.mkdir()
        monkeypatch.setenv(f"PYCOMPOSE_{name}_DIR", str(path))
    return base


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
