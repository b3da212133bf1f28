"""The hand-packed rtnetlink messages: attribute padding and parsing, MAC derivation."""

from __future__ import annotations

import struct

from netplug.nl import IFLA_IFNAME, IFLA_MTU, attr, attrs, ifinfo
from netplug.plugin import mac_for


def test_netplug_attributes_are_padded_and_parse_back() -> None:
    packed = attr(IFLA_IFNAME, b"eth0\0") + attr(IFLA_MTU, struct.pack("=I", 1500))
    assert len(attr(IFLA_IFNAME, b"eth0\0")) == 12  # 4 header + 5 payload, padded to 4
    parsed = dict(attrs(packed))
    assert parsed[IFLA_IFNAME] == b"eth0\0"
    assert struct.unpack("=I", parsed[IFLA_MTU])[0] == 1500


def test_netplug_ifinfo_header() -> None:
    family, kind, index, flags, change = struct.unpack("=BxHiII", ifinfo(7, up=True))
    assert (family, kind, index, flags, change) == (0, 0, 7, 1, 1)


def test_netplug_mac_follows_docker_scheme() -> None:
    assert mac_for("172.17.0.2") == "02:42:ac:11:00:02"
