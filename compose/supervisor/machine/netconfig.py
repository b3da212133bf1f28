"""What netplug is told about a project's network (pure, from the model and daemon.json).

- ``network_config``: a compose network → ``netplug.NetworkConfig``. ``ipam.config`` is a list
  of pools of either family (docker's): the first IPv4 one (or one without a subnet) gives the
  IPv4 subnet, the first IPv6 one the IPv6 subnet, used only with ``enable_ipv6`` (as
  docker's: without it an IPv6 pool is ignored), which takes one from the address pools when
  none is configured.
- ``network_settings``: daemon.json's ``default-address-pools`` ([{"base", "size"}], both
  families) and ``ip-forward`` (false: the host's forwarding sysctls are left alone).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compose.errors import UserError
from netplug.types import AddressPool, NetworkConfig

if TYPE_CHECKING:
    from compose.daemonjson import Settings
    from compose.model import Network


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    pools: tuple[AddressPool, ...] = ()  # empty: netplug's defaults
    ip_forward: bool = True


def network_settings(doc: Settings) -> NetworkSettings:
    pools = []
    for entry in doc.get("default-address-pools") or ():
        try:
            base = ipaddress.ip_network(str(entry["base"]), strict=False)
            size = int(entry["size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(
                f"daemon.json: default-address-pools entry {entry!r}: {exc}",
                hint='each entry is {"base": "<CIDR>", "size": <prefix length>}',
            ) from exc
        if not base.prefixlen <= size <= base.max_prefixlen - 2:
            raise UserError(f"daemon.json: default-address-pools {base}: size {size} is invalid")
        pools.append(AddressPool(str(base), size))
    return NetworkSettings(tuple(pools), bool(doc.get("ip-forward", True)))


def load_network_settings() -> NetworkSettings:
    from compose import daemonjson

    return network_settings(daemonjson.load())


def network_config(project: str, key: str, spec: Network | None) -> NetworkConfig:
    """``spec``: the model's Network (None: not in the file, e.g. acting from the records)."""
    pools = list(spec.ipam.config) if spec is not None else []
    v4 = next((p for p in pools if not _is_v6(p.subnet)), None)
    v6 = next((p for p in pools if _is_v6(p.subnet)), None)
    return NetworkConfig(
        project,
        key,
        subnet=v4.subnet if v4 else None,
        gateway=v4.gateway if v4 else None,
        ip_range=v4.ip_range if v4 else None,
        internal=bool(spec and spec.internal),
        enable_ipv6=bool(spec and spec.enable_ipv6),
        subnet6=v6.subnet if v6 else None,
        gateway6=v6.gateway if v6 else None,
        ip_range6=v6.ip_range if v6 else None,
    )


def _is_v6(subnet: str | None) -> bool:
    return subnet is not None and ":" in subnet
