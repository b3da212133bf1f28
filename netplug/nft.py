"""nftables rules in pycompose-owned tables, applied atomically with ``nft -f -``.

One table per network (masquerade, isolation, internal) named like the bridge, and one table per
publish key (DNAT of published ports) named ``<bridge>-p-<hash>``; removing the network removes
every table with its prefix. Family ``ip``, plus a twin of family ``ip6`` (same name) for an
IPv6-enabled network. Rule text is built by pure functions (unit tested)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from netplug import libnft
from netplug.errors import KernelError
from netplug.naming import BRIDGE_PREFIX
from netplug.netns import NetnsRef
from netplug.types import PortBinding

STAMP = "netplug:"
FAMILIES = ("ip", "ip6")
LOOPBACK = {"ip": "127.0.0.0/8", "ip6": "::1"}


def network_ruleset(
    table: str, bridge: str, subnet: str, internal: bool, family: str = "ip"
) -> str:
    post = [f'oifname "{bridge}" {family} saddr {subnet} ct status dnat masquerade']
    forward = [f'iifname "{bridge}" oifname "{BRIDGE_PREFIX}*" oifname != "{bridge}" drop']
    if internal:
        forward += [
            f'iifname "{bridge}" oifname != "{bridge}" drop',
            f'oifname "{bridge}" iifname != "{bridge}" drop',
        ]
    else:
        post.insert(0, f'{family} saddr {subnet} oifname != "{bridge}" masquerade')
    return _table(
        table,
        {
            "postrouting": ("type nat hook postrouting priority srcnat", post),
            "forward": ("type filter hook forward priority filter", forward),
        },
        family,
    )


def family_of(address: str) -> str:
    return "ip6" if ":" in address else "ip"


def ports_ruleset(table: str, bindings: Sequence[PortBinding], family: str = "ip") -> str:
    """DNAT of one family for every (host_ip, host_port, proto) group; several targets →
    numgen load balance. Only targets of ``family`` count; host addresses of the other family
    and loopback (served by the userland proxy) are left out."""
    pre: list[str] = []
    out: list[str] = []
    mine = [b for b in bindings if family_of(b.target_ip) == family]
    for (host_ip, port, proto), targets in _group(mine).items():
        if _loopback(host_ip) or (host_ip and family_of(host_ip) != family):
            continue
        match = f"{family} daddr {host_ip} " if host_ip not in ("", "0.0.0.0", "::") else ""
        match = match or "fib daddr type local "
        action = f"{proto} dport {port} {_dnat(targets, family)}"
        pre.append(f"{match}{action}")
        out.append(f"{family} daddr != {LOOPBACK[family]} {match}{action}")
    return _table(
        table,
        {
            "prerouting": ("type nat hook prerouting priority dstnat", pre),
            "output": ("type nat hook output priority -100", out),
        },
        family,
    )


def egress_ruleset(
    table: str, client_ip: str, subnet: str, gateway: str, tcp_port: int, udp_port: int
) -> str:
    """A client's DNS (UDP 53, any address) and TCP leaving its subnet, DNATed to a userland
    relay on the gateway (``netplug.egress``)."""
    to_relay = f"ip saddr {client_ip} ip daddr != {subnet} meta l4proto tcp"
    pre = [
        f"ip saddr {client_ip} udp dport 53 dnat ip to {gateway}:{udp_port}",
        f"{to_relay} dnat ip to {gateway}:{tcp_port}",
    ]
    return _table(table, {"prerouting": ("type nat hook prerouting priority dstnat", pre)})


def hold_ruleset(table: str, addresses: Sequence[str]) -> str:
    """New TCP connections to ``addresses`` (IPv4 or IPv6) dropped in a replica's netns
    (``netplug.handover.hold``): an initial SYN (no conntrack needed) on any interface but the
    loopback (the replica's own probes, even to its eth0 address, keep working)."""
    rules = []
    for family in FAMILIES:
        chosen = sorted(a for a in addresses if family_of(a) == family)
        if chosen:
            to = f'iifname != "lo" {family} daddr {{ {", ".join(chosen)} }}'
            rules.append(f"{to} tcp flags & (syn | ack) == syn drop")
    return _table(table, {"input": ("type filter hook input priority filter - 10", rules)}, "inet")


def _loopback(host_ip: str) -> bool:
    return host_ip.startswith("127.") or host_ip == "::1"


def _group(bindings: Sequence[PortBinding]) -> dict[tuple[str, int, str], list[PortBinding]]:
    """By (host_ip, port, proto); "" and "*" both mean every address of both families."""
    groups: dict[tuple[str, int, str], list[PortBinding]] = defaultdict(list)
    for b in bindings:
        groups[(b.host_ip if b.host_ip != "*" else "", b.host_port, b.protocol)].append(b)
    return groups


def _dnat(targets: Sequence[PortBinding], family: str) -> str:
    def addr(ip: str) -> str:
        return f"[{ip}]" if family == "ip6" else ip

    if len(targets) == 1:
        return f"dnat {family} to {addr(targets[0].target_ip)}:{targets[0].target_port}"
    entries = ", ".join(f"{i} : {t.target_ip} . {t.target_port}" for i, t in enumerate(targets))
    return f"dnat {family} addr . port to numgen random mod {len(targets)} map {{ {entries} }}"


def _table(name: str, chains: dict[str, tuple[str, list[str]]], family: str = "ip") -> str:
    """Create-or-refill ``table <family> <name>`` in one transaction, stamped with a digest
    comment of its content so ``apply`` can skip a no-op (any transaction that deletes rules
    costs a ~12 ms RCU grace period in the kernel; a no-op check costs ~0.3 ms)."""
    body = []
    for chain, (hook, rules) in chains.items():
        body.append(f"  chain {chain} {{ {hook}; policy accept;")
        body += [f"    {rule}" for rule in rules]
        body.append("  }")
    digest = hashlib.sha256("\n".join(body).encode()).hexdigest()[:16]
    kind = f"{family} {name}"
    head = [f"table {kind} {{}}", f"flush table {kind}", f"table {kind} {{"]
    stamp = ["  chain stamp {", f'    counter comment "{STAMP}{digest}"', "  }"]  # never jumped to
    return "\n".join([*head, *body, *stamp, "}"]) + "\n"


def _nft(netns: NetnsRef, command: str, json_output: bool = False) -> str:
    return libnft.run(netns, command, json_output=json_output)


def apply(netns: NetnsRef, ruleset: str) -> None:
    """Apply a ruleset from ``_table``; skipped when the live table already carries its stamp."""
    stamp = re.search(rf'comment "{STAMP}\w+"', ruleset)
    name = re.match(r"table (ip6?|inet) (\S+) ", ruleset)
    if stamp and name and stamp.group(0) in _current(netns, name.group(1), name.group(2)):
        return
    _nft(netns, ruleset)


def _current(netns: NetnsRef, family: str, name: str) -> str:
    try:
        return _nft(netns, f"list table {family} {name}")
    except KernelError:
        return ""


def _delete(netns: NetnsRef, command: str) -> None:
    _nft(netns, command)


def has_table(netns: NetnsRef, family: str, name: str) -> bool:
    """A read (no transaction, ~0.3 ms): is ``table <family> <name>`` there?"""
    return bool(_current(netns, family, name))


def list_tables(netns: NetnsRef, prefix: str) -> list[tuple[str, str]]:
    """(family, name) of our tables (families ip and ip6) whose name starts with ``prefix``."""
    data = json.loads(_nft(netns, "list tables", True) or '{"nftables": []}')
    tables = [item["table"] for item in data["nftables"] if "table" in item]
    return [
        (t["family"], t["name"])
        for t in tables
        if t["family"] in FAMILIES and t["name"].startswith(prefix)
    ]


def delete_tables(netns: NetnsRef, prefix: str) -> None:
    names = list_tables(netns, prefix)
    if names:
        _delete(netns, "".join(f"delete table {family} {n}\n" for family, n in names))


def delete_table(netns: NetnsRef, name: str, families: Sequence[str] = ("ip",)) -> None:
    _delete(netns, "".join(f"table {f} {name} {{}}\ndelete table {f} {name}\n" for f in families))


def table_ports(
    netns: NetnsRef, prefix: str, exclude: str | None = None, ignore: tuple[str, ...] = ()
) -> set[tuple[int, str]]:
    """(port, proto) pairs DNAT'ed by our port tables, but ``exclude`` and those of the network
    tables named in ``ignore``: used to refuse double publishing."""
    data = json.loads(_nft(netns, "list ruleset", True) or '{"nftables": []}')
    found: set[tuple[int, str]] = set()
    for item in data["nftables"]:
        rule = item.get("rule")
        if rule and _counted(rule["table"], prefix, exclude, ignore):
            found |= _rule_ports(rule)
    return found


def _counted(table: str, prefix: str, exclude: str | None, ignore: tuple[str, ...]) -> bool:
    network, sep, _ = table.partition("-p-")
    return table.startswith(prefix) and bool(sep) and table != exclude and network not in ignore


def _rule_ports(rule: dict[str, Any]) -> set[tuple[int, str]]:
    ports = set()
    for expr in rule.get("expr", []):
        match = expr.get("match", {})
        left = match.get("left", {})
        payload = left.get("payload", {}) if isinstance(left, dict) else {}
        if payload.get("field") == "dport" and isinstance(match.get("right"), int):
            ports.add((match["right"], payload.get("protocol", "tcp")))
    return ports


# coexistence with a foreign forward filter -----------------------------------------------------
# Docker (iptables-nft) sets `table ip filter` chain FORWARD to policy drop, and loads
# br_netfilter, so even traffic between two replicas on one of our bridges crosses it. An accept
# in our own table can't help (every base chain at a hook must accept), so, as libvirt and
# netavark do, a rule per direction is inserted at the top of each such chain, marked with the
# bridge's name and removed with the network.


def foreign_forward_chains(netns: NetnsRef, drop_only: bool) -> list[tuple[str, str, str]]:
    """(family, table, chain) of the forward base chains that aren't ours (only those with
    policy drop, when ``drop_only``)."""
    data = json.loads(_nft(netns, "list chains", True) or '{"nftables": []}')
    chains = [item["chain"] for item in data["nftables"] if "chain" in item]
    return [
        (c["family"], c["table"], c["name"])
        for c in chains
        if c.get("hook") == "forward"
        and (c.get("policy") == "drop" or not drop_only)
        and c["family"] in ("ip", "inet")
        and not c["table"].startswith(BRIDGE_PREFIX)
    ]


def bridge_accept_rules(bridge: str) -> list[str]:
    """What the bridge needs through a foreign drop-by-default forward chain: everything it
    sends (egress; replica to replica under br_netfilter), replies to it, and published ports
    (DNAT'ed to it). Isolation and internal networks stay enforced by our own table."""
    mark = f'comment "{STAMP}{bridge}"'
    return [
        f'iifname "{bridge}" counter accept {mark}',
        f'oifname "{bridge}" ct state established,related counter accept {mark}',
        f'oifname "{bridge}" ct status dnat counter accept {mark}',
    ]


def open_foreign_forward(netns: NetnsRef, bridge: str) -> None:
    """Insert the bridge's accept rules at the top of each foreign drop chain (idempotent;
    without such a chain, as on a host without Docker, this is one cheap listing)."""
    commands = [
        f"insert rule {family} {table} {chain} {rule}"
        for family, table, chain in foreign_forward_chains(netns, drop_only=True)
        if not _marked_rules(netns, (family, table, chain), bridge)
        for rule in reversed(bridge_accept_rules(bridge))
    ]
    if commands:
        _nft(netns, "\n".join(commands) + "\n")


def close_foreign_forward(netns: NetnsRef, bridge: str) -> None:
    """Delete the bridge's rules from every foreign forward chain (tolerates absence)."""
    commands = [
        f"delete rule {family} {table} {chain} handle {handle}"
        for family, table, chain in foreign_forward_chains(netns, drop_only=False)
        for handle in _marked_rules(netns, (family, table, chain), bridge)
    ]
    if commands:
        _nft(netns, "\n".join(commands) + "\n")


def _marked_rules(netns: NetnsRef, chain: tuple[str, str, str], bridge: str) -> list[int]:
    """Handles of the bridge's rules in ``chain``."""
    data = json.loads(_nft(netns, "list chain {} {} {}".format(*chain), True) or "{}")
    rules = (item["rule"] for item in data.get("nftables", []) if "rule" in item)
    return [r["handle"] for r in rules if r.get("comment") == f"{STAMP}{bridge}"]
