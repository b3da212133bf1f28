"""Durations and byte sizes, parsed and printed the way compose-go (Go) does."""

from __future__ import annotations

import re

_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_BYTES_RE = re.compile(r"(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?")
_DURATION_FORM = ' (units us, ms, s, m, h, e.g. "1m30s")'
_BYTE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_duration(value: str | int | float) -> int:
    """Go ``time.ParseDuration`` -> nanoseconds (numbers are taken as seconds)."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        return _in_range(value * 1_000_000_000, value)
    text = value.strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if text == "0":
        return 0
    total, pos = 0.0, 0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if not m or m.group(1) in ("", "."):
            raise ValueError(f'invalid duration "{value}"{_DURATION_FORM}')
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    if not text:
        raise ValueError(f'invalid duration "{value}"{_DURATION_FORM}')
    return _in_range(sign * total, value)


_MAX_NS = (1 << 63) - 1  # Go's time.Duration is an int64 of nanoseconds (~292 years)


def _in_range(ns: float, value: object) -> int:
    if not -_MAX_NS <= ns <= _MAX_NS:  # also false for nan
        raise ValueError(f"invalid duration {value!r}: out of range (at most about 292 years)")
    return round(ns)


def format_duration(ns: int) -> str:
    """Go ``time.Duration.String()``: 90s -> "1m30s", 1.5ms -> "1.5ms", 0 -> "0s"."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _frac(ns, size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    secs = _frac(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if minutes:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


def _frac(value: int, size: int) -> str:
    whole, rest = divmod(value, size)
    if not rest:
        return str(whole)
    digits = len(str(size)) - 1
    return f"{whole}.{str(rest).rjust(digits, '0').rstrip('0')}"


def normalize_duration(value: object) -> object:
    """Duration in compose's printed form; values we cannot parse are left for validation."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return format_duration(parse_duration(value))
        except ValueError:
            return value
    return value


def parse_bytes(value: str | int) -> int:
    """docker/go-units ``RAMInBytes``: "50M" -> 52428800 (binary multiples)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = _BYTES_RE.fullmatch(str(value).strip())
    if not m:
        raise ValueError(f'invalid size "{value}" (a number of bytes or with a unit, e.g. "512m")')
    return int(float(m.group(1)) * _BYTE_UNITS[(m.group(2) or "").lower()])


def normalize_bytes(value: object) -> object:
    """Byte size as the decimal string compose prints; unparsable values are left as given."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return str(parse_bytes(value))
        except ValueError:
            return value
    return value
