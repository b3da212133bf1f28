"""Volume copy-up from hostile image layers (review gap 1): the copy comes from the image as
the container sees it (overlay's merge), and nothing is read or written outside it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from compose.volumes import copy_up, ensure_volume

pytestmark = [pytest.mark.privileged, pytest.mark.timeout(60)]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_symlink_in_one_layer_and_a_dir_in_the_next_writes_nothing_on_the_host(tmp_path):
    escape = tmp_path / "escape"  # the host dir the image aims at
    escape.mkdir()
    low, top = tmp_path / "l1", tmp_path / "l2"
    (low / "data").mkdir(parents=True)
    os.symlink(str(escape), low / "data" / "conf")  # RUN ln -s /host/dir /data/conf
    (top / "data" / "conf").mkdir(parents=True)  # RUN rm /data/conf && mkdir /data/conf
    (top / "data" / "conf" / "pwned.txt").write_text("pwned\n")
    vol = ensure_volume("p_evil")
    assert copy_up(vol, [low, top], "/data")
    assert _files(escape) == []  # the old merge wrote escape/pwned.txt as root
    assert (vol / "conf").is_dir() and not (vol / "conf").is_symlink()  # overlay's view
    assert (vol / "conf" / "pwned.txt").read_text() == "pwned\n"


def test_a_mount_point_below_an_image_symlink_copies_no_host_directory(tmp_path):
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    (host_dir / "hostsecret").mkdir()
    (host_dir / "hostsecret" / "key").write_text("host only\n")
    (host_dir / "hostsecret" / "key").chmod(0o600)
    layer = tmp_path / "l1"
    (layer / "v").mkdir(parents=True)
    os.symlink(str(host_dir), layer / "v" / "x")  # RUN ln -s /tmp /v/x; volume at /v/x/hostsecret
    vol = ensure_volume("p_read")
    assert not copy_up(vol, [layer], "/v/x/hostsecret")  # not in the image: nothing to copy
    assert _files(vol) == []


def test_symlinks_inside_the_tree_are_copied_as_links_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("host\n")
    layer = tmp_path / "l1"
    (layer / "data").mkdir(parents=True)
    os.symlink(str(outside), layer / "data" / "dir-link")
    os.symlink(str(outside / "secret"), layer / "data" / "file-link")
    vol = ensure_volume("p_links")
    assert copy_up(vol, [layer], "/data")
    assert os.readlink(vol / "dir-link") == str(outside)
    assert os.readlink(vol / "file-link") == str(outside / "secret")
    assert sorted(os.listdir(outside)) == ["secret"]


def test_layers_merge_as_overlay_does_whiteouts_modes_owners_then_never_again(tmp_path):
    low, top = tmp_path / "l1", tmp_path / "l2"
    for d in (low / "data", top / "data"):
        d.mkdir(parents=True)
    (low / "data" / "a.txt").write_text("old")
    (low / "data" / "gone").write_text("deleted by the next layer")
    (top / "data" / "a.txt").write_text("new")
    (top / "data" / "a.txt").chmod(0o600)
    os.chown(top / "data" / "a.txt", 1000, 1000)
    os.mknod(top / "data" / "gone", stat.S_IFCHR | 0o600, os.makedev(0, 0))  # a whiteout
    os.symlink("a.txt", top / "data" / "link")
    (top / "data").chmod(0o750)
    vol = ensure_volume("p_merge")
    assert copy_up(vol, [low, top], "/data")
    assert _files(vol) == ["a.txt", "link"]
    info = (vol / "a.txt").stat()
    assert (vol / "a.txt").read_text() == "new"
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o600, 1000, 1000)
    assert os.readlink(vol / "link") == "a.txt"
    assert stat.S_IMODE(vol.stat().st_mode) == 0o750  # the image directory's mode
    (vol / "a.txt").unlink()
    assert not copy_up(vol, [low, top], "/data")  # initialized: an emptied volume stays empty
    assert not (vol / "a.txt").exists()


def test_an_empty_mount_point_gets_the_top_layers_mode_and_owner_and_a_hidden_one_nothing(
    tmp_path,
):
    low, top = tmp_path / "l1", tmp_path / "l2"
    (low / "data").mkdir(parents=True)  # redis' image: an empty /data
    (top / "data").mkdir(parents=True)
    (top / "data").chmod(0o1770)
    os.chown(top / "data", 999, 998)
    vol = ensure_volume("p_empty")
    assert copy_up(vol, [low, top], "/data")
    info = vol.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o1770, 999, 998)
    assert _files(vol) == []
    assert not copy_up(ensure_volume("p_none"), [low, top], "/srv/none")  # not in the image
    (top / "var").mkdir()
    os.setxattr(top / "var", "trusted.overlay.opaque", b"y")  # hides the lower layer's /var
    (low / "var" / "lib").mkdir(parents=True)
    hidden = ensure_volume("p_hidden")
    assert not copy_up(hidden, [low, top], "/var/lib")
    assert stat.S_IMODE(hidden.stat().st_mode) != 0o1770
