"""Compose names → Kubernetes names: one sanitizer for every reference, collisions reported.

Compose allows ``[a-zA-Z0-9._-]+`` of any length; Kubernetes wants lowercase DNS labels of at
most 63 characters (Services: RFC 1035, a letter first; StatefulSets: 52, their pods add a
revision hash). ``dns_label`` lowercases, turns every other character into ``-``, collapses
runs, trims, and shortens an over-long name to ``<head>-<6 hex of sha256(original)>`` so two
long names stay distinct and the result is stable. ``Names`` is the one table that hands out
names per kind and refuses two origins that would share one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from compose.errors import KubeConversionError

LABEL_MAX = 63
STATEFULSET_MAX = 52
_INVALID = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")
_LABEL_VALUE_INVALID = re.compile(r"[^A-Za-z0-9._-]+")
_KEY_INVALID = re.compile(r"[^A-Za-z0-9._-]+")
SERVICE_PREFIX = "svc-"  # an RFC 1035 label starts with a letter


def _digest(original: str) -> str:
    return hashlib.sha256(original.encode()).hexdigest()[:6]


def _shorten(text: str, original: str, limit: int, strip: str = "-") -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 7].rstrip(strip) + "-" + _digest(original)


def dns_label(name: str, *, limit: int = LABEL_MAX, letter_first: bool = False) -> str:
    """``name`` as an RFC 1123 label (RFC 1035 with ``letter_first``) of at most ``limit``."""
    text = _DASHES.sub("-", _INVALID.sub("-", name.lower())).strip("-") or "x"
    if letter_first and not text[0].isalpha():
        text = SERVICE_PREFIX + text
    return _shorten(text, name, limit)


def derived(base: str, suffix: str, *, limit: int = LABEL_MAX) -> str:
    """``<base>-<suffix>`` within ``limit``: the base is shortened (with a hash), not the suffix."""
    suffix = dns_label(suffix)
    room = limit - len(suffix) - 1
    return f"{_shorten(base, base, room)}-{suffix}"


def label_value(text: str) -> str:
    """A valid label value: at most 63, ``[A-Za-z0-9._-]``, alphanumeric at both ends."""
    value = _LABEL_VALUE_INVALID.sub("-", text).strip("-_.")
    return _shorten(value, text, LABEL_MAX, "-_.")


def data_key(name: str) -> str:
    """A ConfigMap/Secret data key (``[-._a-zA-Z0-9]+``); file names mostly are one already."""
    return _KEY_INVALID.sub("-", name).strip("-") or "data"


@dataclass
class Names:
    """Kubernetes names handed out per kind; two origins on one name is an error."""

    _owners: dict[tuple[str, str], str] = field(default_factory=dict)
    _problems: list[str] = field(default_factory=list)

    def claim(self, kind: str, name: str, origin: str) -> str:
        """Record that ``origin`` (e.g. ``service "web_demo"``) is ``kind/name``; returns name."""
        owner = self._owners.setdefault((kind, name), origin)
        if owner != origin:
            self._problems.append(
                f'{owner} and {origin} both become {kind} "{name}" in Kubernetes: rename one'
            )
        return name

    def raise_collisions(self) -> None:
        if self._problems:
            raise KubeConversionError(
                list(dict.fromkeys(self._problems)),
                hint="Kubernetes names are lowercase letters, digits and '-' (at most 63)",
            )
