"""Docker's resolver address, 127.0.0.11:53 (UDP and TCP), inside a replica's netns.

Docker listens there from inside each container's netns. netplug keeps every socket in the host
netns instead: one nft table in the replica netns DNATs queries to 127.0.0.11:53 on to the
embedded DNS server on the gateway of the replica's first network, and masquerades them out of
that interface (their source is 127.0.0.1). Routing a loopback address out of a real interface
needs ``route_localnet`` on it (set by attach when it raises the link); the table's ``guard``
chain drops every other packet with a 127/8 source or destination arriving from outside, so
``route_localnet`` opens nothing: a service bound to 127.0.0.1 in the container stays
unreachable from its networks. Kernel-only state: it lives and dies with the netns, serves
one-off containers as well, and survives a restart of the process that serves the gateway.

A container process can still bind 0.0.0.0:53 (a DNS server in a container works as with
Docker); only queries to 127.0.0.11 are redirected.
"""

from __future__ import annotations

import re

from netplug import libnft
from netplug.errors import KernelError
from netplug.netns import NetnsRef

ADDRESS = "127.0.0.11"
TABLE = "netplug-dns"


def ruleset(gateway: str) -> str:
    """The table, created or refilled in one transaction (pure)."""
    dnat = f"ip daddr {ADDRESS}"
    return f"""table ip {TABLE} {{}}
flush table ip {TABLE}
table ip {TABLE} {{
  chain output {{ type nat hook output priority -100; policy accept;
    {dnat} udp dport 53 dnat ip to {gateway}:53
    {dnat} tcp dport 53 dnat ip to {gateway}:53
  }}
  chain postrouting {{ type nat hook postrouting priority 100; policy accept;
    oifname != "lo" ip saddr 127.0.0.0/8 masquerade
  }}
  chain guard {{ type filter hook prerouting priority -300; policy accept;
    iifname != "lo" ip saddr 127.0.0.0/8 drop
    iifname != "lo" ip daddr 127.0.0.0/8 drop
  }}
}}
"""


def install(netns: NetnsRef, gateway: str) -> None:
    """Redirect 127.0.0.11:53 in ``netns`` to ``gateway``:53 (idempotent)."""
    libnft.run(netns, ruleset(gateway))


def target(netns: NetnsRef) -> str | None:
    """The gateway queries are redirected to, or None without the table."""
    try:
        text = libnft.run(netns, f"list table ip {TABLE}")
    except KernelError:
        return None
    found = re.search(r"dnat (?:ip )?to ([\d.]+):53", text)
    return found.group(1) if found else None
