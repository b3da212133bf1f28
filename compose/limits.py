"""Bounds on what a stack file may ask for, each with a clear error and a way past it.

- a stack or env file: at most 4 MiB (``PYCOMPOSE_MAX_FILE_SIZE``): a 4.7 MB file took ~17 s
  of CPU to load, a 50 MB one 59 s and 810 MB;
- one service: at most 1000 replicas (``PYCOMPOSE_MAX_REPLICAS``): each costs ~2.6 MB of host
  memory, a million would take the host down;
- one service: at most 1024 ports (``PYCOMPOSE_MAX_PORTS``): the supervisor holds a socket
  per published port, ``1-65535:1-65535`` would exhaust its file descriptors.

The environment variables take a number (``8m``, ``2k`` for sizes); the limits are read when a
stack is loaded or scaled.
"""

from __future__ import annotations

import os

from compose.errors import UserError

FILE_SIZE = ("PYCOMPOSE_MAX_FILE_SIZE", 4 << 20)
REPLICAS = ("PYCOMPOSE_MAX_REPLICAS", 1000)
PORTS = ("PYCOMPOSE_MAX_PORTS", 1024)
_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def limit(bound: tuple[str, int]) -> int:
    name, default = bound
    text = os.environ.get(name, "").strip().lower().removesuffix("b")
    if not text:
        return default
    try:
        if text[-1] in _UNITS:
            return int(float(text[:-1]) * _UNITS[text[-1]])
        return int(text)
    except ValueError:
        raise UserError(f"{name}={os.environ[name]!r} is not a number") from None


def hint(bound: tuple[str, int]) -> str:
    return f"raise the limit with {bound[0]}=<n> if this is meant"


def check_size(size: int, most: int, name: str) -> None:
    """A stack or env file (read with ``most + 1`` at most) refused beyond ``FILE_SIZE``."""
    if size > most:
        raise UserError(f"{name}: larger than {most} bytes", hint=hint(FILE_SIZE))


def replicas_problem(service: str, replicas: int) -> str | None:
    return _over(REPLICAS, service, replicas, "replicas")


def ports_problem(service: str, ports: int) -> str | None:
    return _over(PORTS, service, ports, "published ports")


def _over(bound: tuple[str, int], service: str, count: int, what: str) -> str | None:
    most = limit(bound)
    if count <= most:
        return None
    return (
        f'service "{service}": {count} {what} is more than the limit of {most} '
        f"({bound[0]} raises it)"
    )
