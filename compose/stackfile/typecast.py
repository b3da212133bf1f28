"""Type casts of interpolated values (compose-go ``loader/interpolate.go`` TypeCastMapping).

A value changed by interpolation at one of these paths becomes an int, float or bool, so that
``replicas: ${N}`` means the number N. Literal strings are left alone (validation judges them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compose.stackfile.types import KeyPath

_TRUE = frozenset({"y", "yes", "true", "on"})
_FALSE = frozenset({"n", "no", "false", "off"})


def to_bool(value: str) -> bool:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f'expected a boolean value, got "{value}"')


def to_int(value: str) -> int:
    try:
        return int(value, 0) if value.lower().startswith(("0x", "0o")) else int(value)
    except ValueError:
        raise ValueError(f'expected an integer, got "{value}"') from None


def to_float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f'expected a number, got "{value}"') from None


def to_mode(value: str) -> int:
    try:
        return int(value, 8)
    except ValueError:
        raise ValueError(f'expected an octal file mode, got "{value}"') from None


Cast = Callable[[str], Any]
_SERVICE: dict[tuple[str, ...], Cast] = {
    ("cpu_count",): to_int, ("cpu_percent",): to_float, ("cpu_period",): to_int,
    ("cpu_quota",): to_int, ("cpu_rt_period",): to_int, ("cpu_rt_runtime",): to_int,
    ("cpus",): to_float, ("cpu_shares",): to_int, ("init",): to_bool,
    ("deploy", "replicas"): to_int,
    ("deploy", "update_config", "parallelism"): to_int,
    ("deploy", "update_config", "max_failure_ratio"): to_float,
    ("deploy", "rollback_config", "parallelism"): to_int,
    ("deploy", "rollback_config", "max_failure_ratio"): to_float,
    ("deploy", "restart_policy", "max_attempts"): to_int,
    ("deploy", "placement", "max_replicas_per_node"): to_int,
    ("healthcheck", "retries"): to_int, ("healthcheck", "disable"): to_bool,
    ("oom_kill_disable",): to_bool, ("oom_score_adj",): to_int, ("pids_limit",): to_int,
    ("ports", "[]", "target"): to_int, ("privileged",): to_bool, ("read_only",): to_bool,
    ("scale",): to_int, ("stdin_open",): to_bool, ("tty",): to_bool,
    ("secrets", "[]", "mode"): to_mode, ("configs", "[]", "mode"): to_mode,
    ("ulimits", "*"): to_int, ("ulimits", "*", "hard"): to_int, ("ulimits", "*", "soft"): to_int,
    ("volumes", "[]", "read_only"): to_bool, ("volumes", "[]", "volume", "nocopy"): to_bool,
    ("volumes", "[]", "tmpfs", "mode"): to_mode,
}  # fmt: skip
_TOP: dict[tuple[str, ...], Cast] = {
    ("networks", "*", "external"): to_bool, ("networks", "*", "internal"): to_bool,
    ("networks", "*", "attachable"): to_bool, ("networks", "*", "enable_ipv6"): to_bool,
    ("networks", "*", "enable_ipv4"): to_bool, ("volumes", "*", "external"): to_bool,
    ("secrets", "*", "external"): to_bool, ("configs", "*", "external"): to_bool,
}  # fmt: skip


def _shape(path: KeyPath) -> tuple[str, ...]:
    return tuple("[]" if isinstance(p, int) else p for p in path)


def caster_for(path: KeyPath) -> Cast | None:
    """The cast for a value at ``path`` (``services.<name>...`` or a top-level resource)."""
    shape = _shape(path)
    if len(shape) >= 3 and shape[0] == "services":
        tail = shape[2:]
        return _SERVICE.get(tail) or _SERVICE.get(_wild(tail))
    return _TOP.get(_wild(shape)) if len(shape) == 3 else None


def _wild(shape: tuple[str, ...]) -> tuple[str, ...]:
    """Second element as a wildcard: ``ulimits.nofile.soft`` -> ``ulimits.*.soft``."""
    return (shape[0], "*", *shape[2:]) if len(shape) >= 2 else shape
