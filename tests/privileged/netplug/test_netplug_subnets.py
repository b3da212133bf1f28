"""Subnet choice across IPAM roots: two state dirs on one host (parallel test runs, a build next
to a stack) that create networks at the same moment each get their own subnet."""

from __future__ import annotations

import threading

import pytest
from netplug_env import Env, env_fixture  # noqa: F401

import netplug

pytestmark = pytest.mark.privileged


def test_ipam_roots_creating_networks_at_once_never_share_a_subnet(env: Env) -> None:
    count = 4
    cfgs = [netplug.NetworkConfig(f"{env.project}r{i}", "default") for i in range(count)]
    roots = [env.root / f"ipam{i}" for i in range(count)]
    start = threading.Barrier(count)
    subnets: dict[int, str] = {}
    errors: list[BaseException] = []

    def create(i: int) -> None:
        start.wait()
        try:
            info = netplug.ensure_network(cfgs[i], host_netns=env.host, ipam_root=roots[i])
            subnets[i] = info.subnet
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(count)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        assert len(set(subnets.values())) == count, subnets
    finally:
        for cfg, root in zip(cfgs, roots, strict=True):
            netplug.remove_network(cfg, host_netns=env.host, ipam_root=root)
