"""pyroute2's IPRoute with its netlink socket inside a netns (no helper process): tests and
benchmarks look at the kernel with a library other than netplug's own rtnetlink client.
pyroute2 is a test dependency only (netplug speaks netlink itself: nl.py)."""

from __future__ import annotations

from typing import Any

from netplug.netns import NetnsRef, call_in


def iproute(netns: NetnsRef = None) -> Any:
    from pyroute2 import IPRoute

    return call_in(netns, IPRoute)
