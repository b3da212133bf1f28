"""pydantic ``ValidationError`` → one located line per problem (no pydantic text leaks out).

compose.yaml:12:7: services.web.ports[0]: invalid port "80:80:80" (expected the long form ...)
compose.yaml:4:5: services.web.enviroment: unknown key (did you mean "environment"?)
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from compose.model.refs import KeyPath
from compose.stackfile import SourceMap
from compose.stackfile.types import did_you_mean

_SCHEMA_TAGS = (
    "function-",
    "constrained-",
    "lax-",
    "json-or-python",
    "tagged-union",
    "nullable",
    "chain",
    "literal[",
    "is-instance[",
    "list[",
    "dict[",
    "union[",
)


# pydantic error type -> what the value must be (compose: "services.web.privileged must be ...")
_EXPECTED = {
    **dict.fromkeys(("dict_type", "model_type", "model_attributes_type"), "a mapping"),
    **dict.fromkeys(("list_type", "tuple_type", "set_type"), "a list"),
    "string_type": "a string",
    **dict.fromkeys(("bool_parsing", "bool_type"), "a boolean (true or false)"),
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float"), "an integer"),
    **dict.fromkeys(("float_parsing", "float_type"), "a number"),
}


def describe_validation_error(
    exc: ValidationError, root: type[BaseModel], source_map: SourceMap
) -> list[str]:
    """One ``file:line:col: path: message`` line per distinct problem, in file order."""
    problems: list[tuple[KeyPath, str]] = []
    seen: set[KeyPath] = set()
    for error in exc.errors(include_url=False):
        path = clean_loc(error["loc"])
        if path in seen:  # union members each report the same place
            continue
        seen.add(path)
        problems.append((path, _message(error, path, root)))
    return located_lines(source_map, problems)


def located_lines(source_map: SourceMap, problems: list[tuple[KeyPath, str]]) -> list[str]:
    """Each problem as a located line, sorted by where it is written (files in first-seen
    order, then line and column); problems with no known place keep their order, last."""
    marks = [source_map.locate(path) for path, _ in problems]
    files = list(dict.fromkeys(m.file for m in marks if m))

    def position(i: int) -> tuple[int, int, int, int]:
        m = marks[i]
        return (files.index(m.file), m.line, m.col, i) if m else (len(files), 0, 0, i)

    order = sorted(range(len(problems)), key=position)
    return [locate(source_map, *problems[i]) for i in order]


def locate(source_map: SourceMap, path: KeyPath, message: str) -> str:
    mark = source_map.locate(path)
    where = f"{mark}: " if mark else ""
    return f"{where}{format_path(path)}: {message}" if path else f"{where}{message}"


def format_path(path: KeyPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "." in part or " " in part or not part:
            text += f'["{part}"]'
        else:
            text += f".{part}" if text else part
    return text


def clean_loc(loc: tuple[Any, ...]) -> KeyPath:
    return tuple(p for p in loc if not (isinstance(p, str) and _is_schema_tag(p)))


def _is_schema_tag(part: str) -> bool:
    return part.startswith("__") or part.startswith(_SCHEMA_TAGS)


def _message(error: Any, path: KeyPath, root: type[BaseModel]) -> str:
    kind, text = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown key" + did_you_mean(str(path[-1]), field_names_at(root, path[:-1]))
    if kind == "missing":
        return "required key is missing"
    if kind == "value_error":
        return str(text).removeprefix("Value error, ")
    if kind.startswith("invalid_"):
        return str(text)
    shown = _short(error.get("input"))
    if kind in _EXPECTED:
        return f"must be {_short_forms(path) or _EXPECTED[kind]}, not {shown}"
    return f"invalid value {shown}: {text.replace('Input should be', 'must be')}"


def _short_forms(path: KeyPath) -> str | None:
    """What the user may write at ``path``, where the loader accepts short forms too."""
    if len(path) < 2:
        return None  # top-level sections are mappings
    last, parent = path[-1], str(path[-2])
    if isinstance(last, int):
        return _ITEM_FORMS.get(parent)
    return _VALUE_FORMS.get(parent) or _KEY_FORMS.get(last)


_KV = 'a mapping or a list of "KEY=VALUE" strings'
_KEY_FORMS = {
    **dict.fromkeys(("environment", "labels", "annotations", "sysctls", "args"), _KV),
    "extra_hosts": 'a mapping or a list of "HOST=IP" strings',
    "depends_on": "a mapping or a list of service names",
    "networks": "a mapping or a list of network names",
    **dict.fromkeys(("command", "entrypoint", "test"), "a string or a list of strings"),
}
_ITEM_FORMS = {  # list items, by the list's key
    "ports": 'a string like "8080:80", a number or a mapping',
    "volumes": 'a string like "./data:/data" or a mapping',
    "secrets": "a name or a mapping",
    "configs": "a name or a mapping",
    "env_file": "a path or a mapping",
}
_VALUE_FORMS = {"ulimits": "an integer or a mapping {soft, hard}"}  # mapping values, by key


def _short(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def field_names_at(root: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys the model accepts at ``path`` (for "did you mean" hints)."""
    node: Any = root
    for part in path:
        node = _child(node, part)
        if node is None:
            return []
    node = _unwrap(node)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return [f.alias or name for name, f in node.model_fields.items() if not f.exclude]
    return []


def _child(node: Any, part: str | int) -> Any:
    node = _unwrap(node)
    if isinstance(node, type) and issubclass(node, BaseModel):
        field = node.model_fields.get(str(part))
        return field.annotation if field else None
    origin, args = typing.get_origin(node), typing.get_args(node)
    if origin is dict:
        return args[1]
    if origin in (list, tuple):
        return args[0]
    return None


def _unwrap(node: Any) -> Any:
    while True:
        origin = typing.get_origin(node)
        if origin is typing.Annotated:
            node = typing.get_args(node)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(node) if a is not type(None)]
            node = members[0]
        else:
            return node
