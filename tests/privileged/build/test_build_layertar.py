"""A layer directory -> its tar stream (what a push sends, what the diff id hashes) -> the store's
own unpack gives the same directory back: whiteouts, opaque dirs, hard links, devices, long
and non-ASCII names, owners, modes and xattrs survive; the stream is the same every time."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from compose.images.layertar import diff_id, is_opaque, is_whiteout, layer_stream
from compose.images.unpack import unpack_layer

pytestmark = pytest.mark.privileged


def _make(root: Path) -> None:
    (root / "dir" / "sub").mkdir(parents=True)
    os.chmod(root / "dir", 0o750)
    os.chown(root / "dir" / "sub", 7, 8)
    (root / "dir" / "file").write_text("content\n")
    os.chmod(root / "dir" / "file", 0o4755)
    os.link(root / "dir" / "file", root / "dir" / "hard")
    (root / "link").symlink_to("dir/file")
    long_dir = root / ("d" * 120) / "ünï"
    long_dir.mkdir(parents=True)
    (long_dir / ("f" * 110)).write_text("long\n")
    os.mkfifo(root / "fifo")
    os.mknod(root / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(root / "gone", 0o600 | stat.S_IFCHR, os.makedev(0, 0))  # a whiteout
    (root / "opaque").mkdir()
    (root / "opaque" / "kept").write_text("k")
    os.setxattr(root / "opaque", "trusted.overlay.opaque", b"y")
    os.setxattr(root / "dir" / "file", "user.note", b"hello")


def _tree(root: Path) -> dict[str, tuple]:
    out = {}
    for path in sorted(root.rglob("*")):
        st = os.lstat(path)
        rel = str(path.relative_to(root))
        link = os.readlink(path) if path.is_symlink() else ""
        xattrs = {} if path.is_symlink() else {n: os.getxattr(path, n) for n in os.listxattr(path)}
        out[rel] = (
            stat.S_IFMT(st.st_mode),
            stat.S_IMODE(st.st_mode),
            st.st_uid,
            st.st_gid,
            st.st_size if stat.S_ISREG(st.st_mode) else 0,
            st.st_rdev,
            link,
            int(st.st_mtime) if not stat.S_ISLNK(st.st_mode) else 0,
            tuple(sorted(xattrs.items())),
        )
    return out


def test_round_trip_through_the_stores_unpack(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _make(src)
    digest, size = diff_id(src)
    assert (digest, size) == diff_id(src)  # deterministic
    blob = tmp_path / "layer.tar"
    blob.write_bytes(b"".join(layer_stream(src)))
    assert blob.stat().st_size == size
    dest = unpack_layer(blob, tmp_path / "dest", tmp_path / "tmp", digest)
    assert is_whiteout(os.lstat(dest / "gone")) and is_opaque(str(dest / "opaque"))
    assert os.lstat(dest / "dir" / "file").st_ino == os.lstat(dest / "dir" / "hard").st_ino
    assert _tree(dest) == _tree(src)
