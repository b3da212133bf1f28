"""nftables rules in pycompose-owned tables (family ip), applied atomically with ``nft -f -``.

One table per network (masquerade, isolation, internal) named like the bridge, and one table per
publish key (DNAT of published ports) named ``<bridge>-p-<hash>``; removing the network removes
every table with its prefix. Rule text is built by pure functions (unit tested)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Sequence

from netplug.errors import KernelError
from netplug.naming import BRIDGE_PREFIX
from netplug.netns import NetnsRef, entered
from netplug.types import PortBinding


def network_ruleset(table: str, bridge: str, subnet: str, internal: bool) -> str:
    post = [f'oifname "{bridge}" ip saddr {subnet} ct status dnat masquerade']
    forward = [f'iifname "{bridge}" oifname "{BRIDGE_PREFIX}*" oifname != "{bridge}" drop']
    if internal:
        forward += [
            f'iifname "{bridge}" oifname != "{bridge}" drop',
            f'oifname "{bridge}" iifname != "{bridge}" drop',
        ]
    else:
        post.insert(0, f'ip saddr {subnet} oifname != "{bridge}" masquerade')
    return _table(
        table,
        {
            "postrouting": ("type nat hook postrouting priority srcnat", post),
            "forward": ("type filter hook forward priority filter", forward),
        },
    )


def ports_ruleset(table: str, bindings: Sequence[PortBinding]) -> str:
    """DNAT for every (host_ip, host_port, proto) group; several targets → numgen load balance."""
    pre: list[str] = []
    out: list[str] = []
    for (host_ip, port, proto), targets in _group(bindings).items():
        if host_ip.startswith("127."):
            continue  # loopback is served by the userland proxy
        match = f"ip daddr {host_ip} " if host_ip else "fib daddr type local "
        action = f"{proto} dport {port} {_dnat(targets)}"
        pre.append(f"{match}{action}")
        out.append(f"ip daddr != 127.0.0.0/8 {match}{action}")
    return _table(
        table,
        {
            "prerouting": ("type nat hook prerouting priority dstnat", pre),
            "output": ("type nat hook output priority -100", out),
        },
    )


def _group(bindings: Sequence[PortBinding]) -> dict[tuple[str, int, str], list[PortBinding]]:
    groups: dict[tuple[str, int, str], list[PortBinding]] = defaultdict(list)
    for b in bindings:
        groups[
            (b.host_ip if b.host_ip not in ("0.0.0.0", "*") else "", b.host_port, b.protocol)
        ].append(b)
    return groups


def _dnat(targets: Sequence[PortBinding]) -> str:
    if len(targets) == 1:
        return f"dnat ip to {targets[0].target_ip}:{targets[0].target_port}"
    entries = ", ".join(f"{i} : {t.target_ip} . {t.target_port}" for i, t in enumerate(targets))
    return f"dnat ip addr . port to numgen random mod {len(targets)} map {{ {entries} }}"


def _table(name: str, chains: dict[str, tuple[str, list[str]]]) -> str:
    """Replace-or-create ``table ip <name>`` in one transaction."""
    lines = [f"table ip {name} {{}}", f"delete table ip {name}", f"table ip {name} {{"]
    for chain, (hook, rules) in chains.items():
        lines.append(f"  chain {chain} {{ {hook}; policy accept;")
        lines += [f"    {rule}" for rule in rules]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _nft(netns: NetnsRef, args: list[str], stdin: str | None = None) -> str:
    exe = shutil.which("nft") or "/usr/sbin/nft"
    with entered(netns):  # a child forked from this thread inherits its netns
        proc = subprocess.run([exe, *args], input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        raise KernelError(f"nft {' '.join(args)}: {detail[0] if detail else proc.returncode}")
    return proc.stdout


def apply(netns: NetnsRef, ruleset: str) -> None:
    _nft(netns, ["-f", "-"], ruleset)


def list_tables(netns: NetnsRef, prefix: str) -> list[str]:
    data = json.loads(_nft(netns, ["-j", "list", "tables", "ip"]) or '{"nftables": []}')
    names = [item["table"]["name"] for item in data["nftables"] if "table" in item]
    return [n for n in names if n.startswith(prefix)]


def delete_tables(netns: NetnsRef, prefix: str) -> None:
    names = list_tables(netns, prefix)
    if names:
        apply(netns, "".join(f"delete table ip {n}\n" for n in names))


def delete_table(netns: NetnsRef, name: str) -> None:
    apply(netns, f"table ip {name} {{}}\ndelete table ip {name}\n")


def table_ports(netns: NetnsRef, prefix: str, exclude: str | None = None) -> set[tuple[int, str]]:
    """(port, proto) pairs DNAT'ed by our port tables: used to refuse double publishing."""
    data = json.loads(_nft(netns, ["-j", "list", "ruleset", "ip"]) or '{"nftables": []}')
    found: set[tuple[int, str]] = set()
    for item in data["nftables"]:
        rule = item.get("rule")
        if (
            rule
            and rule["table"].startswith(prefix)
            and "-p-" in rule["table"]
            and rule["table"] != exclude
        ):
            found |= _rule_ports(rule)
    return found


def _rule_ports(rule: dict) -> set[tuple[int, str]]:
    ports = set()
    for expr in rule.get("expr", []):
        match = expr.get("match", {})
        left = match.get("left", {})
        payload = left.get("payload", {}) if isinstance(left, dict) else {}
        if payload.get("field") == "dport" and isinstance(match.get("right"), int):
            ports.add((match["right"], payload.get("protocol", "tcp")))
    return ports
