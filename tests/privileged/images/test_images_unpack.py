"""Layer unpacking as root: hostile archives refused cleanly, metadata kept, whiteouts work
under a real overlay mount."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
import zstandard

from compose.errors import ImageError
from compose.images.store import ImageStore
from compose.images.unpack import HostileLayer, unpack_layer

pytestmark = pytest.mark.privileged


def _entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **attrs) -> tuple:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = attrs.pop("mode", 0o755 if kind == tarfile.DIRTYPE else 0o644)
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, data


def _tar(entries: list[tuple], compress: str = "gz") -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    body = raw.getvalue()
    if compress == "gz":
        import gzip

        return gzip.compress(body)
    if compress == "zstd":
        return zstandard.ZstdCompressor().compress(body)
    return body


def _unpack(store: ImageStore, body: bytes, diff_id: str | None = None) -> Path:
    digest = store.put_blob(body)
    dest = store.root / "layers" / digest.split(":")[1]
    return unpack_layer(store.blob_path(digest), dest, store.tmp, diff_id)


SYM, LNK, DIR = tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE
HOSTILE = {
    "dotdot": [_entry("../evil", data=b"x")],
    "dotdot-inside": [_entry("a/../../evil", data=b"x")],
    "absolute": [_entry("/evil", data=b"x")],
    "through-absolute-symlink": [
        _entry("link", SYM, linkname="{outside}"),
        _entry("link/evil", data=b"x"),
    ],
    "through-relative-symlink": [
        _entry("up", SYM, linkname="../../../../../../.."),
        _entry("up{outside}/evil", data=b"x"),
    ],
    "hardlink-dotdot": [_entry("h", LNK, linkname="../../../../etc/passwd")],
    "hardlink-absolute": [_entry("h", LNK, linkname="/etc/passwd")],
    "hardlink-unknown": [_entry("h", LNK, linkname="etc/shadow")],
    "hardlink-through-symlink": [
        _entry("s", SYM, linkname="/etc"),
        _entry("h", LNK, linkname="s/passwd"),
    ],
    "duplicate-replaces-symlink": [
        _entry("d", SYM, linkname="{outside}"),
        _entry("d", DIR),
        _entry("d/evil", data=b"x"),
    ],
}


@pytest.mark.parametrize("compress", ["gz", "none"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_layer_refused_and_store_clean(case: str, compress: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    entries = []
    for info, data in HOSTILE[case]:
        info = info.replace(
            name=info.name.format(outside=outside), linkname=info.linkname.format(outside=outside)
        )
        entries.append((info, data))
    store = ImageStore(tmp_path / "store")
    with pytest.raises(HostileLayer, match="refused"):
        _unpack(store, _tar(entries, compress))
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "evil").exists()
    assert not (store.root / "layers").exists() or not list((store.root / "layers").iterdir())
    assert list(store.tmp.iterdir()) == []


def _rich_entries() -> list[tuple]:
    return [
        _entry("etc", DIR),
        _entry("etc/passwd", data=b"root:x:0:0::/:/bin/sh\n"),
        _entry("usr", DIR),
        _entry("usr/bin", DIR),
        _entry("usr/bin/tool", data=b"#!/bin/sh\n", mode=0o4755, uid=1234, gid=5678),
        _entry("usr/bin/alias", LNK, linkname="usr/bin/tool"),
        _entry("usr/bin/sh", SYM, linkname="/usr/bin/tool"),
        _entry("dev", DIR),
        _entry("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666),
        _entry("dev/pipe", tarfile.FIFOTYPE),
    ]


@pytest.mark.parametrize("compress", ["gz", "zstd", "none"])
def test_metadata_kept(compress: str, tmp_path: Path) -> None:
    entries = _rich_entries()
    entries[4][0].pax_headers = {"SCHILY.xattr.user.origin": "test"}
    root = _unpack(ImageStore(tmp_path / "store"), _tar(entries, compress))
    tool = root / "usr/bin/tool"
    st = tool.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 5678, 0o4755)
    assert (root / "usr/bin/alias").stat().st_ino == st.st_ino
    assert os.readlink(root / "usr/bin/sh") == "/usr/bin/tool"
    dev = (root / "dev/null").lstat()
    assert stat.S_ISCHR(dev.st_mode) and os.major(dev.st_rdev) == 1 and os.minor(dev.st_rdev) == 3
    assert stat.S_ISFIFO((root / "dev/pipe").lstat().st_mode)
    assert os.getxattr(tool, "user.origin") == b"test"


def test_diff_id_mismatch_refused(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    with pytest.raises(ImageError, match="diff id"):
        _unpack(store, _tar(_rich_entries()), diff_id="sha256:" + "1" * 64)
    assert list(store.tmp.iterdir()) == []


@pytest.mark.parametrize("compress", ["gz", "none"])
def test_truncated_layer_refused(compress: str, tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    body = _tar([_entry("big", data=os.urandom(200_000))], compress)
    with pytest.raises(ImageError):
        _unpack(store, body[: len(body) // 2])
    assert list(store.tmp.iterdir()) == []


def test_whiteouts_hide_lower_files_under_overlay(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    lower = _unpack(
        store,
        _tar(
            [
                _entry("a", DIR),
                _entry("a/gone", data=b"1"),
                _entry("a/kept", data=b"2"),
                _entry("d", DIR),
                _entry("d/old", data=b"3"),
            ]
        ),
    )
    upper = _unpack(
        store,
        _tar(
            [
                _entry("a", DIR),
                _entry("a/.wh.gone"),
                _entry("d", DIR),
                _entry("d/.wh..wh..opq"),
                _entry("d/new", data=b"4"),
            ]
        ),
    )
    gone = (upper / "a/gone").lstat()
    assert stat.S_ISCHR(gone.st_mode) and gone.st_rdev == 0
    assert os.getxattr(upper / "d", "trusted.overlay.opaque") == b"y"
    assert not (upper / "d/.wh..wh..opq").exists()
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = (
        f"mount -t overlay overlay -o lowerdir={upper}:{lower} {mnt} && "
        f"ls -A {mnt}/a; echo --; ls -A {mnt}/d"
    )
    out = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["kept", "--", "new"]


def test_forged_overlay_xattrs_are_dropped(tmp_path: Path) -> None:
    info, data = _entry("d", DIR)
    info.pax_headers = {
        "SCHILY.xattr.trusted.overlay.opaque": "y",
        "SCHILY.xattr.user.overlay.opaque": "y",
        "SCHILY.xattr.user.keep": "1",
    }
    root = _unpack(ImageStore(tmp_path / "store"), _tar([(info, data)]))
    assert os.listxattr(root / "d") == ["user.keep"]
