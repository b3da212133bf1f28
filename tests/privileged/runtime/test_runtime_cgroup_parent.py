"""A shared parent cgroup (the ``pycompose`` root) that another process removes while it is
empty: the last project's ``down`` does, while another project's ``up`` creates its replicas'
groups under it. Every create still succeeds."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from compose.runtime import cgroups
from compose.runtime.spec import Limits

pytestmark = [pytest.mark.privileged, pytest.mark.timeout(120)]


def test_groups_are_made_while_another_process_removes_their_empty_parent(salt: str) -> None:
    driver = cgroups.detect()
    parent = f"pycompose-race-{salt}"
    done = threading.Event()

    def last_down() -> None:  # forget_project's remove_if_empty, as often as it can
        while not done.is_set():
            driver.remove_if_empty(parent)

    remover = threading.Thread(target=last_down)
    remover.start()
    failures: list[str] = []
    try:
        for n in range(300):
            path = f"{parent}/p{n}/replica"
            try:
                driver.create(path, Limits())
            except cgroups.CgroupError as exc:
                failures.append(str(exc))
                continue
            driver.remove(path)
            driver.remove_if_empty(f"{parent}/p{n}")
    finally:
        done.set()
        remover.join()
        for d in Path("/sys/fs/cgroup").glob(f"*/{parent}"):  # what a failed create left
            for sub in sorted(d.glob("**/"), key=lambda p: -len(p.parts)):
                sub.rmdir()
    assert failures == []
    assert not any(Path("/sys/fs/cgroup").glob(f"*/{parent}"))
