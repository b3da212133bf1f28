"""YAML text -> plain Python tree + marks, with Go yaml.v3 scalar rules (what compose-go sees).

We compose ruamel nodes (which carry line/column) and construct values ourselves so that:
duplicate keys are errors, ``<<`` merge keys work, ``!reset``/``!override``/``!merge`` are
recorded per key path, plain scalars resolve like yaml.v3 (``0440`` is octal, ``yes`` is a
string), and alias expansion is bounded (no billion-laughs hang).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from compose.errors import StackSyntaxError
from compose.stackfile.merge import merge_values
from compose.stackfile.types import KeyPath, Mark, SourceMap

MAX_NODES = 500_000
_INT_RE = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[0-9]+)")
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_STD = "tag:yaml.org,2002:"
RESET, OVERRIDE, MERGE = "!reset", "!override", "!merge"


@dataclass
class ParsedFile:
    """One parsed document: its tree, marks and the key paths tagged !reset / !override."""

    name: str
    tree: dict[str, Any]
    source_map: SourceMap
    resets: set[KeyPath] = field(default_factory=set)
    overrides: set[KeyPath] = field(default_factory=set)
    positional: set[KeyPath] = field(default_factory=set)  # sequences tagged !merge


def resolve_plain(text: str) -> Any:
    """Value of an untagged plain scalar, as yaml.v3 decodes it into interface{}."""
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    plain = text.replace("_", "") if text[:1] in "+-0123456789" else text
    if _INT_RE.fullmatch(plain):
        return _parse_int(plain)
    if _FLOAT_RE.fullmatch(plain):
        return float(plain)
    return text


def _parse_int(plain: str) -> int | float:
    sign = -1 if plain.startswith("-") else 1
    body = plain.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1].isdigit():
        try:
            return sign * int(body[1:], 8)
        except ValueError:
            return float(plain)  # "08": not octal, Go falls back to a float
    return sign * int(body, 0)


class _Builder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.marks = SourceMap()
        self.resets: set[KeyPath] = set()
        self.overrides: set[KeyPath] = set()
        self.positional: set[KeyPath] = set()
        self.count = 0
        self.active: set[int] = set()  # nodes being built: re-entering one is an alias cycle

    def mark(self, node: Any) -> Mark:
        m = node.start_mark
        return Mark(self.name, m.line + 1, m.column + 1)

    def fail(self, node: Any, msg: str) -> StackSyntaxError:
        return StackSyntaxError(f"{self.mark(node)}: {msg}")

    def build(self, node: Any, path: KeyPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, "document too large (alias expansion limit reached)")
        tag = str(node.tag)
        if tag == RESET:
            self.resets.add(path)
        elif tag == OVERRIDE:
            self.overrides.add(path)
        elif tag == MERGE:
            self.positional.add(path)
        if node.id == "scalar":
            return self.scalar(node, tag)
        if id(node) in self.active:
            raise self.fail(node, f"cycle detected at path: {_dotted(path)}")
        self.active.add(id(node))
        try:
            if node.id == "mapping":
                return self.build_map(node, path)
            return [self.build_item(n, (*path, i)) for i, n in enumerate(node.value)]
        finally:
            self.active.discard(id(node))

    def build_item(self, node: Any, path: KeyPath) -> Any:
        self.marks.add(path, self.mark(node))
        return self.build(node, path)

    def scalar(self, node: Any, tag: str) -> Any:
        text = node.value
        if node.style is not None:
            return text
        explicit = _explicit_tag(node)
        if explicit and tag == _STD + "str":
            return text
        value = resolve_plain(text)
        if tag in (RESET, OVERRIDE, MERGE) and value is None:
            return None
        return value

    def build_map(self, node: Any, path: KeyPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for knode, vnode in node.value:
            if str(knode.tag) == _STD + "merge" or (knode.value == "<<" and knode.style is None):
                self.merge_into(merged, vnode, path)
                continue
            key = self.key(knode)
            if key in out:
                raise self.fail(knode, f'duplicate key "{key}" (first at line {lines[key]})')
            lines[key] = self.mark(knode).line
            self.marks.add((*path, key), self.mark(knode), override=True)
            out[key] = self.build(vnode, (*path, key))
        for key, value in merged.items():
            out.setdefault(key, value)
        return out

    def merge_into(self, merged: dict[str, Any], vnode: Any, path: KeyPath) -> None:
        sources = vnode.value if vnode.id == "sequence" else [vnode]
        for src in sources:
            if src.id != "mapping":
                raise self.fail(src, "merge key << expects a mapping or a list of mappings")
            for key, value in self.build_map(src, path).items():
                merged.setdefault(key, value)

    def key(self, knode: Any) -> str:
        if knode.id != "scalar":
            raise self.fail(knode, "mapping keys must be scalars")
        value = knode.value if knode.style is not None else resolve_plain(knode.value)
        if value is None:
            return "null" if knode.value else ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return knode.value if isinstance(value, float) else str(value)


def _dotted(path: KeyPath) -> str:
    return ".".join(str(p) for p in path)


def _explicit_tag(node: Any) -> bool:
    m = node.start_mark
    buf = getattr(m, "buffer", None)
    return buf is not None and 0 <= m.pointer < len(buf) and buf[m.pointer] == "!"


def parse_yaml(text: str, name: str) -> ParsedFile:
    """Parse one compose file; the top level must be a mapping."""
    nodes = _compose(text, name)
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise StackSyntaxError(f"{name}:1:1: empty compose file")
    builder = _Builder(name)
    tree: dict[str, Any] = {}
    for node in nodes:
        if node.id != "mapping":
            raise builder.fail(node, "top-level object must be a mapping")
        try:
            doc = builder.build(node, ())
        except RecursionError:
            raise builder.fail(node, "document nested too deeply") from None
        tree = merge_values(tree, doc, (), frozenset(builder.overrides)) if tree else doc
    parsed = ParsedFile(name, tree, builder.marks, builder.resets, builder.overrides)
    parsed.positional = builder.positional
    return parsed


def _compose(text: str, name: str) -> list[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="safe", pure=True)
    try:
        return list(yaml.compose_all(text))
    except MarkedYAMLError as exc:
        raise _marked_error(exc, name) from None
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character or "?")
        raise StackSyntaxError(
            f"{name}:{line}:{col}: character U+{char:04X} is not allowed in YAML", hint=_BINARY
        ) from None
    except (YAMLError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise StackSyntaxError(f"{name}:1:1: invalid YAML: {exc}") from None


_BINARY = "is this a compose file? YAML text may not contain control characters"
_HINTS = (
    ("'\\t'", "indent YAML with spaces: tabs are not allowed for indentation"),
    ("<block end>", "check this line's indentation against the lines above it"),
    ("mapping values are not allowed", 'quote a value that contains ": "'),
)


def _marked_error(exc: Any, name: str) -> StackSyntaxError:
    """ruamel's "while parsing X (context) ... expected Y (problem)" as one located line."""
    mark, context = exc.problem_mark or exc.context_mark, exc.context_mark
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else f"{name}:1:1"
    problem = exc.problem or "invalid YAML"
    if exc.context and context and exc.problem_mark and context.line != mark.line:
        problem += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
    elif exc.context:
        problem = f"{exc.context}: {problem}"
    hint = next((h for marker, h in _HINTS if marker in problem), None)
    return StackSyntaxError(f"{where}: {problem}", hint=hint)
