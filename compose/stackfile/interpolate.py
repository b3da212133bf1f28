"""Variable interpolation with compose-go ``template`` semantics.

``$VAR ${VAR} ${VAR:-d} ${VAR-d} ${VAR:?e} ${VAR?e} ${VAR:+r} ${VAR+r}``, nested defaults,
``$$`` for a literal ``$``. A ``$`` that starts neither a name nor ``${`` is kept as is; a
``${`` without a valid name or closing brace is an invalid template (as in compose-go).
Applied to values only, never to keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from compose.errors import InterpolationError
from compose.stackfile.typecast import caster_for
from compose.stackfile.types import KeyPath, SourceMap

Lookup = Callable[[str], "str | None"]
_NAME_START = frozenset("_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class TemplateError(ValueError):
    """A template problem without location; the caller adds file:line:col and key path."""


def mapping_lookup(env: Mapping[str, str]) -> Lookup:
    return env.get


def substitute(text: str, lookup: Lookup, unset: list[str] | None = None) -> str:
    """Interpolate one string; ``unset`` collects names that were looked up but not set."""
    if "$" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        value, i = _expand_at(text, j, lookup, unset)
        out.append(value)
    return "".join(out)


def _expand_at(text: str, j: int, lookup: Lookup, unset: list[str] | None) -> tuple[str, int]:
    nxt = text[j + 1 : j + 2]
    if nxt == "$":
        return "$", j + 2
    if nxt and nxt in _NAME_START:
        end = _name_end(text, j + 1)
        return _plain(text[j + 1 : end], lookup, unset), end
    if nxt == "{":
        close = _closing_brace(text, j)
        if close < 0:
            raise TemplateError(f'invalid interpolation format: "{text}"')
        return _braced(text[j + 2 : close], text, lookup, unset), close + 1
    return "$", j + 1  # not a variable: kept as is (e.g. "$(date)", "$1", a trailing "$")


def _name_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end] in _NAME_CHARS:
        end += 1
    return end


def _closing_brace(text: str, start: int) -> int:
    depth, i = 0, start
    while i < len(text):
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        if text.startswith("${", i):
            depth += 1
            i += 1
        i += 1
    return -1


def _plain(name: str, lookup: Lookup, unset: list[str] | None) -> str:
    value = lookup(name)
    if value is None:
        if unset is not None:
            unset.append(name)
        return ""
    return value


def _braced(inner: str, text: str, lookup: Lookup, unset: list[str] | None) -> str:
    if not inner or inner[0] not in _NAME_START:
        raise TemplateError(f'invalid interpolation format: "{text}"')
    end = _name_end(inner, 0)
    name, rest = inner[:end], inner[end:]
    if not rest:
        return _plain(name, lookup, unset)
    op = next((o for o in _OPERATORS if rest.startswith(o)), None)
    if op is None:
        raise TemplateError(f'invalid interpolation format: "{text}"')
    return _apply(name, op, rest[len(op) :], lookup, unset)


def _apply(name: str, op: str, arg: str, lookup: Lookup, unset: list[str] | None) -> str:
    value = lookup(name)
    missing = value is None or (op[0] == ":" and value == "")
    if op.endswith("-"):
        return substitute(arg, lookup, unset) if missing else str(value)
    if op.endswith("?"):
        if missing:
            detail = substitute(arg, lookup, unset)
            why = f": {detail}" if detail else ""
            raise TemplateError(f'required variable "{name}" is missing a value{why}')
        return str(value)
    return "" if missing else substitute(arg, lookup, unset)


def interpolate_tree(
    tree: Any, lookup: Lookup, marks: SourceMap, warnings: list[str], path: KeyPath = ()
) -> Any:
    """Interpolate every string value of ``tree`` (not keys); errors carry file:line:col."""
    if isinstance(tree, str):
        return _interpolate_value(tree, lookup, marks, warnings, path)
    if not isinstance(tree, dict | list):
        return tree
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    done = {k: interpolate_tree(v, lookup, marks, warnings, (*path, k)) for k, v in items}
    return done if isinstance(tree, dict) else list(done.values())


def _interpolate_value(
    text: str, lookup: Lookup, marks: SourceMap, warnings: list[str], path: KeyPath
) -> Any:
    unset: list[str] = []
    try:
        result = substitute(text, lookup, unset)
        cast = caster_for(path) if result != text else None
        value = cast(result) if cast else result
    except (TemplateError, ValueError) as exc:
        where = marks.locate(path)
        prefix = f"{where}: " if where else ""
        raise InterpolationError(
            f"{prefix}{format_path(path)}: {exc}",
            hint="use $$ for a literal $" if "invalid interpolation" in str(exc) else None,
        ) from None
    for name in unset:
        msg = f'The "{name}" variable is not set. Defaulting to a blank string.'
        if msg not in warnings:
            warnings.append(msg)
    return value


def format_path(path: KeyPath) -> str:
    """``("services", "web", "ports", 0)`` -> ``services.web.ports[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
