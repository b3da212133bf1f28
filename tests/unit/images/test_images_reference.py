"""Reference normalization, as Docker's distribution/reference does it."""

from __future__ import annotations

import pytest

from compose.errors import UserError
from compose.images.reference import parse

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "full", "familiar"),
    [
        ("redis", "docker.io/library/redis:latest", "redis:latest"),
        ("redis:7", "docker.io/library/redis:7", "redis:7"),
        ("library/redis:7", "docker.io/library/redis:7", "redis:7"),
        ("docker.io/redis", "docker.io/library/redis:latest", "redis:latest"),
        ("index.docker.io/library/redis", "docker.io/library/redis:latest", "redis:latest"),
        ("bitnami/redis:7.2", "docker.io/bitnami/redis:7.2", "bitnami/redis:7.2"),
        ("localhost/foo", "localhost/foo:latest", "localhost/foo:latest"),
        ("localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t"),
        (
            "127.0.0.1:5000/busybox",
            "127.0.0.1:5000/busybox:latest",
            "127.0.0.1:5000/busybox:latest",
        ),
        ("ghcr.io/o/r:v1", "ghcr.io/o/r:v1", "ghcr.io/o/r:v1"),
        (f"redis@{DIGEST}", f"docker.io/library/redis@{DIGEST}", f"redis@{DIGEST}"),
        (f"redis:7@{DIGEST}", f"docker.io/library/redis:7@{DIGEST}", f"redis:7@{DIGEST}"),
        ("[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest"),
        ("a__b/c-d.e_f", "docker.io/a__b/c-d.e_f:latest", "a__b/c-d.e_f:latest"),
    ],
)
def test_normalize(text: str, full: str, familiar: str) -> None:
    ref = parse(text)
    assert str(ref) == full
    assert ref.familiar() == familiar


def test_parts() -> None:
    ref = parse("127.0.0.1:5000/ns/app:1.0")
    assert (ref.domain, ref.path, ref.tag, ref.reference) == (
        "127.0.0.1:5000",
        "ns/app",
        "1.0",
        "1.0",
    )
    assert parse(f"app@{DIGEST}").reference == DIGEST


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Redis", "must be lowercase"),
        ("docker.io/Library/redis", "must be lowercase"),
        ("ab" * 32, "cannot specify 64-byte hexadecimal strings"),
        ("redis:", "invalid reference format"),
        ("redis:7:8", "invalid reference format"),
        ("-redis", "invalid reference format"),
        ("redis@sha256:short", "invalid reference format"),
        ("a" * 256, "must not be more than 255"),
    ],
)
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse(text)
