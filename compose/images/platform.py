"""Platform strings (``linux/arm64/v8``) and manifest list / OCI index selection."""

from __future__ import annotations

import platform as _platform
from collections.abc import Mapping
from typing import Any

from compose.errors import ImageError
from compose.images.model import Descriptor

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "i386": "386"}


def host_platform() -> str:
    machine = _platform.machine()
    arch = _ARCH.get(machine, machine)
    return "linux/arm/v7" if machine == "armv7l" else f"linux/{arch}"


def parse_platform(text: str | None) -> tuple[str, str, str | None]:
    """``linux/amd64`` -> ("linux", "amd64", None); None -> the host's platform."""
    parts = (text or host_platform()).lower().split("/")
    if len(parts) < 2 or len(parts) > 3 or not all(parts):
        raise ImageError(
            f"invalid platform {text!r}", hint="use os/arch[/variant], e.g. linux/amd64"
        )
    variant = parts[2] if len(parts) == 3 else None
    if parts[1] == "arm64" and variant == "v8":
        variant = None
    return parts[0], parts[1], variant


def _matches(entry: Mapping[str, Any], want: tuple[str, str, str | None]) -> bool:
    os_name, arch, variant = want
    if entry.get("os") != os_name or entry.get("architecture") != arch:
        return False
    have = entry.get("variant")
    if have == "v8" and arch == "arm64":
        have = None
    return variant is None or have == variant


def select_manifest(index: Mapping[str, Any], platform: str | None, ref: str) -> Descriptor:
    """The manifest of ``index`` for ``platform`` (default: the host's)."""
    want = parse_platform(platform)
    for doc in index.get("manifests", []):
        if _matches(doc.get("platform") or {}, want):
            return Descriptor.from_json(doc)
    shown = "/".join(p for p in want if p)
    raise ImageError(f"{ref}: no matching manifest for {shown} in the manifest list entries")
