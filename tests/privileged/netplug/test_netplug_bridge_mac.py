"""The bridge keeps one MAC while replicas join and leave, so the gateway MAC in every replica's
ARP cache stays valid (DNS and egress through the gateway keep working after a scale)."""

from __future__ import annotations

import re

import pytest
from netplug_env import Env, env_fixture  # noqa: F401

pytestmark = pytest.mark.privileged


def _bridge_mac(env: Env, bridge: str) -> str:
    out = env.sh(env.host, "ip", "-o", "link", "show", bridge)
    assert out.returncode == 0, out.stderr
    found = re.search(r"link/ether ([0-9a-f:]{17})", out.stdout)
    assert found, out.stdout
    return found.group(1)


def test_netplug_bridge_mac_fixed_while_replicas_join_and_leave(env: Env) -> None:
    cfg, info = env.network("front")
    first = _bridge_mac(env, info.bridge)
    assert first.startswith("02:")
    for index in range(1, 6):
        env.attach(f"web-{index}", cfg)
        assert _bridge_mac(env, info.bridge) == first
    ping = env.sh(env.replicas[-1], "busybox", "ping", "-c1", "-W2", info.gateway)
    assert ping.returncode == 0, ping.stdout
