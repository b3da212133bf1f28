"""The netlink boundary: small rtnetlink steps over pyroute2 (imported lazily by callers of
``netns.iproute``). Every NetlinkError/OSError becomes a KernelError naming object and step."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from netplug.errors import KernelError

IPR = Any  # pyroute2.IPRoute (not imported at module level: it costs ~70 ms)


@contextmanager
def step(what: str) -> Iterator[None]:
    """Translate kernel errors raised inside the block into KernelError("<what>: <cause>")."""
    try:
        yield
    except KernelError:
        raise
    except Exception as exc:
        if not is_kernel_error(exc):
            raise
        raise KernelError(f"{what}: {_cause(exc)}") from exc


def is_kernel_error(exc: BaseException) -> bool:
    from pyroute2.netlink.exceptions import NetlinkError

    return isinstance(exc, OSError | NetlinkError)


def _cause(exc: BaseException) -> str:
    code = getattr(exc, "code", None) or exc.errno
    return os.strerror(code) if isinstance(code, int) else str(exc)


def _code(exc: BaseException) -> int | None:
    return getattr(exc, "code", None) or getattr(exc, "errno", None)


def link_index(ipr: IPR, ifname: str) -> int | None:
    found = ipr.link_lookup(ifname=ifname)
    return found[0] if found else None


def link_kind(ipr: IPR, index: int) -> str | None:
    link = ipr.get_links(index)[0]
    return link.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")


def link_attr(ipr: IPR, index: int, name: str) -> Any:
    return ipr.get_links(index)[0].get_attr(name)


def ensure_bridge(ipr: IPR, name: str, mtu: int) -> int:
    with step(f"bridge {name}: create"):
        try:
            ipr.link("add", ifname=name, kind="bridge", mtu=mtu)
        except Exception as exc:
            if _code(exc) != errno.EEXIST:
                raise
    index = link_index(ipr, name)
    if index is None or link_kind(ipr, index) != "bridge":
        raise KernelError(f"bridge {name}: a link of that name exists but is not a bridge")
    return index


def ipv4_addresses(ipr: IPR, index: int) -> list[tuple[str, int]]:
    return [
        (a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(family=2, index=index)
    ]


def ensure_address(ipr: IPR, index: int, ifname: str, ip: str, prefixlen: int) -> None:
    present = ipv4_addresses(ipr, index)
    if (ip, prefixlen) in present:
        return
    if present:
        raise KernelError(
            f"bridge {ifname}: has address {present[0][0]}/{present[0][1]}, "
            f"expected {ip}/{prefixlen}",
            hint="another network uses this bridge name, or its subnet changed: remove it first",
        )
    with step(f"link {ifname}: add address {ip}/{prefixlen}"):
        ipr.addr("add", index=index, address=ip, prefixlen=prefixlen)


def set_up(ipr: IPR, index: int, ifname: str) -> None:
    with step(f"link {ifname}: set up"):
        ipr.link("set", index=index, state="up")


def has_default_route(ipr: IPR) -> str | None:
    for route in ipr.get_routes(family=2, table=254):
        if route["dst_len"] == 0:
            return route.get_attr("RTA_GATEWAY")
    return None
