"""What a build must not leave of its network (the privileged and e2e build tests check it):
nothing of its RUNs; the bridge stays for the next build until ``builder prune``."""

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
    """Nothing of the build's RUNs left (netns file, veth, relay nft table, IPAM entry); the
    bridge itself stays for the next build (``assert_no_build_bridge`` after a prune)."""
    from netplug import nft
    from netplug.ipam.store import DiskStore
    from netplug.netns import default_run_dir

    assert nft.list_tables(None, f"{build_bridge()}-p-") == [], "RUN's nft table left"
    ipam = paths.ipam_dir()
    assert DiskStore(ipam / f"{BRIDGE_PROJECT}_{network_name(ipam)}").owners() == [], "IPAM left"
    assert not list(default_run_dir().glob("build-*")), "netns file left"
    links = _host_links()
    left = [links[i] for i in peer_ifindexes if links.get(i, "").startswith("pcv-")]
    assert left == [], "RUN veth left"


def assert_no_build_bridge() -> None:
    """Nothing of the build network at all: no bridge, nft table or IPAM record either."""
    from netplug import nft

    assert_no_build_network()
    bridge = build_bridge()
    assert not Path("/sys/class/net", bridge).exists(), "build bridge left"
    assert nft.list_tables(None, bridge) == [], "nft table left"
    ipam = paths.ipam_dir()
    assert not (ipam / f"{BRIDGE_PROJECT}_{network_name(ipam)}").exists(), "IPAM left"
