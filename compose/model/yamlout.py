"""A small block-style YAML writer for plain data, printing the way Go's yaml.v3 does.

``config`` output is dicts, lists, strings, numbers, booleans and None only, so a full YAML
emitter is not needed (ruamel's takes ~25 ms on the full example; this takes ~2 ms). Rules:
2-space indents, sequences indented under their key (``- item``), ``{}``/``[]`` for empty
collections, ``|`` literal blocks for multi-line strings, and double quotes (YAML escapes)
for any string a YAML 1.1 reader would not read back as that same string.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_PLAIN = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\t\n\r]*$|^[-?:][^\s,\[\]{}][^\t\n\r]*$")
_NOT_STR = re.compile(
    r"""^(?:[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0o?[0-7_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*)
    |[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])*\.[0-9_]*
    |[-+]?[0-9_]+  # ruamel's YAML 1.2 int rule reads "_" and "-_" as ints
    |y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    |~|null|Null|NULL|<<|=|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt\s].*)?)$""",
    re.VERBOSE,
)


def dump(data: Any) -> str:
    lines: list[str] = []
    _node(data, 0, lines)
    return "".join(line + "\n" for line in lines)


def _node(value: Any, indent: int, lines: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _entry(" " * indent + _key(str(key)) + ":", item, indent, lines)
    else:
        for item in value:
            _entry(" " * indent + "-", item, indent, lines, in_list=True)


def _entry(head: str, value: Any, indent: int, lines: list[str], *, in_list: bool = False) -> None:
    child = indent + 2
    if isinstance(value, dict | list) and value:
        if in_list and isinstance(value, dict):
            start = len(lines)
            _node(value, child, lines)
            lines[start] = head + " " + lines[start][child:]
            return
        lines.append(head)
        _node(value, child, lines)
    elif isinstance(value, str) and _literal_ok(value):
        lines.append(head + (" |" if value.endswith("\n") else " |-"))
        lines.extend(" " * child + line if line else "" for line in value.rstrip("\n").split("\n"))
    else:
        lines.append(head + " " + _scalar(value))


@functools.lru_cache(maxsize=1024)
def _key(key: str) -> str:
    """Keys repeat (every service has its ``image:``): formatted once each."""
    return _scalar(key)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    if isinstance(value, int | float):
        return repr(value)
    if value.isprintable() and _PLAIN.match(value) and not _NOT_STR.match(value):
        if _plain_inside(value):
            return str(value)
    return '"' + "".join(_ESCAPES.get(ch) or _escape(ch) for ch in value) + '"'


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(ch: str) -> str:
    if ch.isprintable():
        return ch
    code = ord(ch)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def _plain_inside(value: str) -> bool:
    return ": " not in value and " #" not in value and not value.endswith((" ", ":"))


def _literal_ok(value: str) -> bool:
    if "\n" not in value.rstrip("\n") and not value.endswith("\n"):
        return False
    body = value.rstrip("\n")
    return (
        bool(body)
        and not body[0].isspace()
        and value.count("\n", len(body)) <= 1
        and all(ch.isprintable() or ch == "\n" for ch in value)
        and not any(line.endswith((" ", "\t")) for line in body.split("\n"))
    )
