"""Volume snapshots (pure file system, no root): a restore makes the volume equal to the
snapshot again and copies only what changed since (stat signatures with ctime: a rewrite of
the same size is seen)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compose import snapshots
from compose.errors import UserError
from compose.volumes import ensure_volume

VOLUME = "proj_data"


def tree(root: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            found[rel] = ("dir", path.stat().st_mode & 0o7777)
        else:
            found[rel] = ("file", path.read_bytes(), path.stat().st_mode & 0o7777)
    return found


@pytest.fixture
def data(isolated_dirs) -> Path:
    root = ensure_volume(VOLUME)
    (root / "big.bin").write_bytes(os.urandom(1 << 20))
    (root / "sub").mkdir()
    (root / "sub" / "a.txt").write_text("a")
    (root / "link").symlink_to("sub/a.txt")
    os.chmod(root / "sub" / "a.txt", 0o640)
    return root


def test_restore_puts_back_every_kind_of_change(data):
    before = tree(data)
    taken = snapshots.take(VOLUME, "seeded")
    assert taken.files == 2 and taken.bytes == (1 << 20) + 1
    (data / "sub" / "a.txt").write_text("b")  # same size, rewritten
    os.chmod(data / "sub" / "a.txt", 0o600)
    (data / "new.txt").write_text("new")
    (data / "link").unlink()
    (data / "link").symlink_to("elsewhere")
    (data / "sub2").mkdir()
    restored = snapshots.restore(VOLUME, "seeded")
    assert tree(data) == before
    assert restored.files == 1 and restored.bytes == 1  # the big file was not copied


def test_nothing_changed_copies_nothing_and_a_deleted_file_comes_back(data):
    before = tree(data)
    snapshots.take(VOLUME, "s")
    assert snapshots.restore(VOLUME, "s").files == 0
    (data / "big.bin").unlink()
    assert snapshots.restore(VOLUME, "s").bytes == 1 << 20
    assert tree(data) == before
    with open(data / "big.bin", "ab") as handle:  # appended: copied again
        handle.write(b"x")
    assert snapshots.restore(VOLUME, "s").bytes == 1 << 20
    assert tree(data) == before


def test_a_missing_snapshot_is_the_users_error(data):
    with pytest.raises(UserError, match='no snapshot "nope"'):
        snapshots.restore(VOLUME, "nope")
