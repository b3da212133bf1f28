"""How Go prints the values BuildKit writes into image history (``created_by``) and config, and
reads the booleans of its options (``strconv.ParseBool``)."""

from __future__ import annotations

from collections.abc import Iterable

from compose.build.parser import go_quote


def quoted_list(values: Iterable[str]) -> str:
    """``fmt.Sprintf("%q", []string{...})``: ``["a" "b"]``."""
    return "[" + " ".join(go_quote(v) for v in values) + "]"


def plain_list(values: Iterable[str]) -> str:
    """``fmt.Sprintf("%v", []string{...})``: ``[a b]``."""
    return "[" + " ".join(values) + "]"


def _frac(value: int, digits: int) -> str:
    """``value`` / 10**digits with trailing zeros dropped (Go's fmtFrac + fmtInt)."""
    whole, part = divmod(value, 10**digits)
    text = str(part).rjust(digits, "0").rstrip("0")
    return f"{whole}.{text}" if text else str(whole)


def duration(ns: int) -> str:
    """``time.Duration.String()``: ``1m30s``, ``300ms``, ``2h0m0s``, ``0s``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1000:
        return f"{sign}{u}ns"
    if u < 10**6:
        return f"{sign}{_frac(u, 3)}µs"
    if u < 10**9:
        return f"{sign}{_frac(u, 6)}ms"
    seconds, sub = divmod(u, 10**9)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = _frac(secs * 10**9 + sub, 9) + "s"
    if hours or minutes:
        text = f"{minutes}m" + text
    if hours:
        text = f"{hours}h" + text
    return sign + text


def parse_bool(value: str) -> bool:
    """``strconv.ParseBool`` (case-insensitive, as BuildKit's callers use it); ValueError for
    anything else."""
    lowered = value.lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    raise ValueError(value)
