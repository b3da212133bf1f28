"""Short syntax parsers: ports, volumes, devices, extra_hosts, units."""

from __future__ import annotations

import pytest

from compose.stackfile.shortsyntax import parse_device, parse_extra_host, parse_port, parse_volume
from compose.stackfile.units import format_duration, normalize_bytes, parse_duration


def _p(target: int, published: str | None = None, ip: str | None = None, proto: str = "tcp"):
    out: dict = {"mode": "ingress"}
    if ip:
        out["host_ip"] = ip
    out["target"] = target
    if published is not None:
        out["published"] = published
    out["protocol"] = proto
    return out


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("80", [_p(80)]),
        ("8080:80", [_p(80, "8080")]),
        ("53:53/udp", [_p(53, "53", proto="udp")]),
        ("53:53/UDP", [_p(53, "53", proto="udp")]),
        ("127.0.0.1:8001:8001", [_p(8001, "8001", "127.0.0.1")]),
        ("127.0.0.1::80", [_p(80, None, "127.0.0.1")]),
        ("[::1]:80:80", [_p(80, "80", "::1")]),
        ("::1:80:80", [_p(80, "80", "::1")]),
        ("3000-3001", [_p(3000), _p(3001)]),
        ("9090-9091:8080-8081", [_p(8080, "9090"), _p(8081, "9091")]),
        ("8000-8010:80", [_p(80, "8000-8010")]),
        (":80", [_p(80)]),
    ],
)
def test_stackfile_ports_short_syntax(spec: str, expected: list) -> None:
    assert parse_port(spec) == expected


@pytest.mark.parametrize(
    "spec", ["80:80:80", "abc", "1-2:3-5", "80/xyz", "1.2.3:80:80", "70000", "90-80", ""]
)
def test_stackfile_ports_invalid(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_port(spec)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("/data", {"type": "volume", "target": "/data", "volume": {}}),
        ("db:/var/db", {"type": "volume", "source": "db", "target": "/var/db", "volume": {}}),
        ("./src:/app", {"type": "bind", "source": "./src", "target": "/app", "bind": {}}),
        ("/a:/b:ro", {"type": "bind", "source": "/a", "target": "/b", "read_only": True,
                      "bind": {}}),
        ("~/c:/c:rw", {"type": "bind", "source": "~/c", "target": "/c", "bind": {}}),
        ("./a:/b:z", {"type": "bind", "source": "./a", "target": "/b", "bind": {"selinux": "z"}}),
        (
            "./a:/b:ro,rshared",
            {"type": "bind", "source": "./a", "target": "/b", "read_only": True,
             "bind": {"propagation": "rshared"}},
        ),
        (
            "vol:/x:nocopy",
            {"type": "volume", "source": "vol", "target": "/x", "volume": {"nocopy": True}},
        ),
        ("vol:/x:bogus", {"type": "volume", "source": "vol", "target": "/x", "volume": {}}),
    ],
)  # fmt: skip
def test_stackfile_volumes_short_syntax(spec: str, expected: dict) -> None:
    assert parse_volume(spec) == expected


@pytest.mark.parametrize("spec", ["", "ab:cd:ef:gh", "ab::cd"])
def test_stackfile_volumes_invalid(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_volume(spec)


def test_stackfile_devices_and_extra_hosts() -> None:
    assert parse_device("/dev/fuse") == {
        "source": "/dev/fuse", "target": "/dev/fuse", "permissions": "rwm"
    }  # fmt: skip
    assert parse_device("/dev/a:/dev/b:r")["target"] == "/dev/b"
    assert parse_extra_host("db:10.0.0.2") == ("db", "10.0.0.2")
    assert parse_extra_host("v6=::1") == ("v6", "::1")


@pytest.mark.parametrize(
    ("text", "printed"),
    [("60s", "1m0s"), ("90s", "1m30s"), ("1h", "1h0m0s"), ("500ms", "500ms"), ("0", "0s"),
     ("1.5s", "1.5s"), ("2h3m4s", "2h3m4s"), (10, "10s"), ("1m30s", "1m30s")],
)  # fmt: skip
def test_stackfile_durations_print_like_go(text: str | int, printed: str) -> None:
    assert format_duration(parse_duration(text)) == printed


@pytest.mark.parametrize(
    ("given", "printed"),
    [("50M", "52428800"), ("1g", "1073741824"), ("512k", "524288"), (10000, "10000"),
     ("1gb", "1073741824"), ("2 MiB", "2097152"), ("bogus", "bogus")],
)  # fmt: skip
def test_stackfile_byte_sizes(given: str | int, printed: str) -> None:
    assert normalize_bytes(given) == printed
