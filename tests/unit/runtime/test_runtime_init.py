"""The init's step order and its executable lookup (no root needed)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from compose.runtime import init


def _order() -> list[str]:
    return [name for name, _ in init.STEPS]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("join network namespace", "unshare namespaces"),  # proc/sys mounts see the container's net
        ("mount rootfs", "mounts"),
        ("mounts", "pivot_root"),
        ("pivot_root", "join cgroup"),
        ("join cgroup", "sysctl"),
        ("sysctl", "mask paths"),  # /proc/sys turns read-only afterwards
        ("resolve user", "set user"),
        ("seccomp", "set user"),  # installed while CAP_SYS_ADMIN is still held
        ("set user", "no_new_privs"),
        ("set user", "chdir"),  # the working dir is entered with the user's permissions
    ],
)
def test_step_order(before: str, after: str):
    order = _order()
    assert order.index(before) < order.index(after)


def test_lookup_follows_path_and_skips_non_executables(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a/tool").write_text("not executable")
    (tmp_path / "b/tool").write_text("#!/bin/sh\n")
    os.chmod(tmp_path / "b/tool", 0o755)
    (tmp_path / "a/dir").mkdir()
    env = {"PATH": f"{tmp_path}/a:{tmp_path}/b"}
    assert init.find_executable("tool", env) == f"{tmp_path}/b/tool"
    with pytest.raises(OSError) as info:
        init.find_executable("dir", env)
    assert info.value.strerror == 'exec: "dir": executable file not found in $PATH'
    assert info.value.errno == errno.ENOENT


def test_lookup_of_a_path_reports_stat_like_docker(tmp_path: Path):
    with pytest.raises(OSError) as info:
        init.find_executable(f"{tmp_path}/nope", {})
    assert info.value.strerror == (
        f'exec: "{tmp_path}/nope": stat {tmp_path}/nope: no such file or directory'
    )
