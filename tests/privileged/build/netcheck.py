"""What a build must not leave of its network (the privileged and e2e build tests check it)."""

from __future__ import annotations

from pathlib import Path

from compose import paths
from compose.build.buildnet import BRIDGE_PROJECT, network_name


def build_bridge() -> str:
    from netplug.naming import bridge_name

    return bridge_name(BRIDGE_PROJECT, network_name(paths.ipam_dir()))


def _host_links() -> dict[int, str]:
    out = {}
    for link in Path("/sys/class/net").iterdir():
        try:
            out[int((link / "ifindex").read_text())] = link.name
        except OSError:
            continue
    return out


def assert_no_build_network(peer_ifindexes: tuple[int, ...] = ()) -> None:
    """No bridge, nft table, IPAM record or entry, netns file or RUN veth of the build left."""
    from netplug import nft
    from netplug.netns import default_run_dir

    bridge = build_bridge()
    assert not Path("/sys/class/net", bridge).exists(), "build bridge left"
    assert nft.list_tables(None, bridge) == [], "nft table left"
    ipam = paths.ipam_dir()
    assert not (ipam / f"{BRIDGE_PROJECT}_{network_name(ipam)}").exists(), "IPAM left"
    assert not list(default_run_dir().glob("build-*")), "netns file left"
    links = _host_links()
    left = [links[i] for i in peer_ifindexes if links.get(i, "").startswith("pcv-")]
    assert left == [], "RUN veth left"
