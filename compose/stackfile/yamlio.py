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
_NUMBER_START = frozenset("+-.0123456789")  # what _INT_RE and _FLOAT_RE can start with
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
    if text[:1] not in _NUMBER_START:  # most values: neither regex could match
        return text
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


class _PureDecides(Exception):
    """libyaml and ruamel's pure composer might disagree here: parse the text again, pure."""


class _Builder:
    """Nodes (from ruamel's pure composer) -> tree + marks."""

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

    def tag(self, node: Any) -> str:
        return str(node.tag)

    def explicit(self, node: Any, tag: str) -> bool:
        """Whether the file wrote a tag on this plain scalar (``!!str 12``)."""
        return _explicit_tag(node)

    def fail(self, node: Any, msg: str) -> StackSyntaxError:
        return StackSyntaxError(f"{self.mark(node)}: {msg}")

    def build(self, node: Any, path: KeyPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, "document too large (alias expansion limit reached)")
        tag = self.tag(node)
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
        if node.style:  # quoted or block (plain: None, or "" from libyaml)
            return text
        if tag == _STD + "str" and self.explicit(node, tag):
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
            if (knode.value == "<<" and not knode.style) or self.tag(knode) == _STD + "merge":
                self.merge_into(merged, vnode, path)
                continue
            key = self.key(knode)
            if key in out:
                raise self.fail(knode, f'duplicate key "{key}" (first at line {lines[key]})')
            mark = self.mark(knode)
            lines[key] = mark.line
            self.marks.add((*path, key), mark, override=True)
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
        value = knode.value if knode.style else resolve_plain(knode.value)
        if value is None:
            return "null" if knode.value else ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return knode.value if isinstance(value, float) else str(value)


class _FastBuilder(_Builder):
    """Nodes from ``_c_composer()``: tags are plain strings, ``IMPLICIT`` on untagged plain
    scalars. Where libyaml places a node differently from ruamel (an empty plain scalar
    starts where the indicator ends there, at the next token here), types it differently (a
    lone ``!``) or is more lenient (leading empty lines of a block scalar),
    ``_PureDecides`` is raised."""

    def mark(self, node: Any) -> Mark:
        if not node.value and node.id == "scalar" and not node.style:
            raise _PureDecides
        m = node.start_mark
        return Mark(self.name, m.line + 1, m.column + 1)

    def tag(self, node: Any) -> str:
        tag: str = node.ctag.suffix  # what the composer passed (Node.tag re-renders a Tag)
        if tag == NON_SPECIFIC:
            raise _PureDecides
        return tag

    def explicit(self, node: Any, tag: str) -> bool:
        return tag != IMPLICIT

    def scalar(self, node: Any, tag: str) -> Any:
        if node.style in ("|", ">") and node.value[:1] in ("", "\n"):
            raise _PureDecides  # ruamel checks the indentation of leading empty lines
        if not node.value and not node.style and tag == _STD + "str":
            raise _PureDecides  # "!!str" on nothing: ruamel's mark misses the tag
        return super().scalar(node, tag)


def _dotted(path: KeyPath) -> str:
    return ".".join(str(p) for p in path)


def _explicit_tag(node: Any) -> bool:
    """A tag at the node's start, after its anchor if any (``&a !!str 5``)."""
    m = node.start_mark
    buf = getattr(m, "buffer", None)
    if not buf or not 0 <= m.pointer < len(buf):
        return False
    at = m.pointer
    if buf[at] == "&":
        anchor = _ANCHOR.match(buf, at)
        at = anchor.end() if anchor else at
    return bool(buf.startswith("!", at))


_ANCHOR = re.compile(r"&\S*\s*")


def parse_yaml(text: str, name: str) -> ParsedFile:
    """Parse one compose file; the top level must be a mapping.

    libyaml's C composer when ``ruamel.yaml.clib`` is installed (~10x faster), ruamel's pure
    one otherwise; both give the same tree and marks. Wherever the two could differ (the text
    has an error, a tab or a YAML 1.1-only line break, a doubtful node), the pure one decides,
    so errors read the same either way."""
    nodes = _compose_fast(text)
    if nodes is not None:
        try:
            return _build(_FastBuilder(name), nodes)
        except (_PureDecides, StackSyntaxError):
            pass
    return _build(_Builder(name), _compose(text, name))


def _build(builder: _Builder, nodes: list[Any]) -> ParsedFile:
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise StackSyntaxError(f"{builder.name}:1:1: empty compose file")
    tree: dict[str, Any] = {}
    for node in nodes:
        if node.id != "mapping":
            raise builder.fail(node, "top-level object must be a mapping")
        try:
            doc = builder.build(node, ())
        except RecursionError:
            raise builder.fail(node, "document nested too deeply") from None
        tree = merge_values(tree, doc, (), frozenset(builder.overrides)) if tree else doc
    parsed = ParsedFile(builder.name, tree, builder.marks, builder.resets, builder.overrides)
    parsed.positional = builder.positional
    return parsed


IMPLICIT = "?plain"  # the C composer's tag for a plain scalar the file wrote no tag on
NON_SPECIFIC = "!"  # ... and for one tagged with a lone "!" (ruamel types those differently)
MAX_FAST_DEPTH = 100  # deeper documents go to the pure composer (C recursion has no guard)
# libyaml takes these where ruamel's scanner refuses (tabs, YAML 1.1 line breaks, "|#", a
# repeated "..." document end)
_PURE_ONLY = re.compile(r"[\t\x85\u2028\u2029]|[|>][-+0-9]{0,2}#|^\.\.\.", re.MULTILINE)


def _compose_fast(text: str) -> list[Any] | None:
    """The document nodes from libyaml, or None (no ``ruamel.yaml.clib``, or a text the pure
    composer has to judge: any error, ``_PURE_ONLY``, nesting beyond ``MAX_FAST_DEPTH``)."""
    composer = _c_composer()
    if composer is None or _PURE_ONLY.search(text):
        return None
    try:
        parser = composer(text)
        nodes = []
        while parser.check_node():
            nodes.append(parser.get_node())
        return nodes
    except Exception:  # any complaint at all: the pure composer decides and words it
        return None


_C_COMPOSER: list[Any] = []


def _c_composer() -> Any:
    """ruamel's ``CParser`` with a resolver that only marks untagged plain scalars
    (``IMPLICIT``): values are typed by ``resolve_plain`` (yaml.v3's rules) as on the pure path.
    None when ``ruamel.yaml.clib`` is not installed."""
    if not _C_COMPOSER:
        _C_COMPOSER.append(_make_c_composer())
    return _C_COMPOSER[0]


class _TooDeep(Exception):
    pass


def _make_c_composer() -> Any:
    try:
        from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
    except ImportError:
        return None
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    class CComposer(CParser):  # type: ignore[misc]
        depth = 0

        def descend_resolver(self, parent: Any, index: Any) -> None:
            self.depth += 1
            if self.depth > MAX_FAST_DEPTH:
                raise _TooDeep

        def ascend_resolver(self) -> None:
            self.depth -= 1

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is ScalarNode:
                if implicit[0]:
                    return IMPLICIT
                return _STD + "str" if implicit[1] else NON_SPECIFIC
            return _STD + ("map" if kind is MappingNode else "seq")

    return CComposer


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
