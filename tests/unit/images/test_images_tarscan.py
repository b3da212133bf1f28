"""The tar header scanner sees the same members as tarfile, for every header format."""

from __future__ import annotations

import io
import tarfile

import pytest

from compose.errors import ImageError
from compose.images.tarscan import Member, TarScanner

LONG = "d" * 120 + "/" + "f" * 90  # needs a ustar prefix, a pax path or a GNU long name


def _archive(fmt: int) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
        for name, kind, data, link in [
            ("etc", tarfile.DIRTYPE, b"", ""),
            ("etc/big", tarfile.REGTYPE, b"x" * 70_000, ""),
            (LONG, tarfile.REGTYPE, b"y" * 513, ""),
            ("etc/link", tarfile.SYMTYPE, b"", "/" + "t" * 150),
            ("etc/hard", tarfile.LNKTYPE, b"", "etc/big"),
            ("dev/null", tarfile.CHRTYPE, b"", ""),
            ("é-unicode", tarfile.REGTYPE, b"", ""),
        ]:
            info = tarfile.TarInfo(name)
            info.type, info.size, info.linkname = kind, len(data), link
            if fmt == tarfile.PAX_FORMAT:
                info.pax_headers = {"SCHILY.xattr.user.k": "v"}
            tar.addfile(info, io.BytesIO(data) if data else None)
    return raw.getvalue()


def _tarfile_members(body: bytes) -> list[Member]:
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return [Member(m.name, m.type, m.linkname) for m in tar]


def _stripped(members: list[Member]) -> list[Member]:
    """tarfile drops the trailing "/" of directory names; the scanner keeps names raw."""
    return [Member(m.name.rstrip("/"), m.type, m.linkname) for m in members]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("chunk", [1, 511, 4096, 1 << 20])
def test_same_members_as_tarfile(fmt: int, chunk: int) -> None:
    body = _archive(fmt)
    seen: list[Member] = []
    scanner = TarScanner(seen.append)
    for pos in range(0, len(body), chunk):
        scanner.feed(body[pos : pos + chunk])
    scanner.finish()
    assert _stripped(seen) == _tarfile_members(body)
    assert seen[2].name == LONG


def test_scan_file_seeks_over_data() -> None:
    body = _archive(tarfile.PAX_FORMAT)
    seen: list[Member] = []
    TarScanner(seen.append).scan_file(io.BytesIO(body))
    assert _stripped(seen) == _tarfile_members(body)


def test_truncated_stream() -> None:
    body = _archive(tarfile.GNU_FORMAT)
    scanner = TarScanner(lambda m: None)
    scanner.feed(body[:2000])
    with pytest.raises(ImageError, match="truncated"):
        scanner.finish()
