"""The ``--format`` Go templates of docker's CLI (``ps``, ``ls``, ``images``), as a small subset.

Supported, as docker users write them: ``{{.Field}}`` (nested ``.A.B``), ``{{.}}``, literal
``\\t`` and ``\\n``, pipelines (``{{.Name | upper}}``) and docker's template functions
``json``, ``upper``, ``lower``, ``title``, ``join``, ``split``, ``truncate``, ``pad``,
``println``; a method taking an argument (``{{.Label "com.docker.compose.service"}}``) is a
callable in the item. A ``table`` prefix prints a header row (each field's header name) and
aligns the columns as docker's tabwriter does (min width 10, padding 3). Anything else
(``if``/``range``/variables) is a ``UserError`` naming the action, never a wrong output.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from compose.errors import UserError

_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.S)
TABLE = "table"


def render(fmt: str, items: Sequence[Mapping[str, Any]], headers: Mapping[str, str]) -> str:
    """Every item through the template (one line each); ``table ...`` adds a header row."""
    text = fmt.replace("\\t", "\t").replace("\\n", "\n")
    is_table = text.startswith(TABLE + " ") or text == TABLE
    if is_table:
        text = text[len(TABLE) :].strip()
    rows = [_execute(text, _item_action(item)) for item in items]
    if not is_table:
        return "\n".join(rows)
    return _align([_execute(text, lambda action: _header(action, headers)), *rows])


def _item_action(item: Mapping[str, Any]) -> Callable[[str], str]:
    return lambda action: _go_str(_pipeline(action, item))


def _execute(text: str, action_text: Callable[[str], str]) -> str:
    out, pos = [], 0
    for match in _ACTION.finditer(text):
        out.append(text[pos : match.start()])
        out.append(action_text(match.group(1)))
        pos = match.end()
    return "".join(out) + text[pos:]


def _header(action: str, headers: Mapping[str, str]) -> str:
    """A column's header: that of the first field the action names (``NAME`` for .Name)."""
    field = re.search(r"\.(\w+)", action)
    return headers.get(field.group(1), field.group(1).upper()) if field else ""


def _pipeline(action: str, item: Mapping[str, Any]) -> Any:
    value: Any = _NO_VALUE
    for command in action.split("|"):
        words = _words(command, action)
        if not words:
            raise UserError(f"template: empty command in {{{{{action}}}}}")
        args = [_operand(w, item, action) for w in words[1:]]
        if value is not _NO_VALUE:
            args.append(value)
        value = _call(words[0], args, item, action)
    return value


def _words(command: str, action: str) -> list[str]:
    try:
        return shlex.split(command.strip(), posix=True)
    except ValueError as exc:
        raise UserError(f"template: {{{{{action}}}}}: {exc}") from exc


def _call(head: str, args: list[Any], item: Mapping[str, Any], action: str) -> Any:
    if head.startswith("."):
        value = _field(head, item, action)
        return value(*args) if callable(value) else value
    func = FUNCTIONS.get(head)
    if func is None:
        raise UserError(
            f'template: {{{{{action}}}}}: "{head}" is not supported',
            hint="pycompose supports fields (.Name), pipes and docker's functions "
            + ", ".join(sorted(FUNCTIONS)),
        )
    return func(*args)


def _operand(word: str, item: Mapping[str, Any], action: str) -> Any:
    if word.startswith("."):
        return _field(word, item, action)
    return int(word) if word.lstrip("-").isdigit() else word


def _field(path: str, item: Mapping[str, Any], action: str) -> Any:
    value: Any = item
    for name in filter(None, path.split(".")):
        if not isinstance(value, Mapping) or name not in value:
            raise UserError(
                f"template: {{{{{action}}}}}: can't evaluate field {name}",
                hint="fields: " + ", ".join(sorted(item)),
            )
        value = value[name]
    return value


def _go_str(value: Any) -> str:
    """How Go's text/template prints a value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{_go_str(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_go_str(v) for v in value) + "]"
    return "<no value>" if value is None else str(value)


def _align(lines: list[str]) -> str:
    """docker's formatter tabwriter: min width 10, padding 3."""
    return tabwrite([line.split("\t") for line in lines], minwidth=10, padding=3)


def tabwrite(cells: Sequence[Sequence[str]], minwidth: int, padding: int) -> str:
    """Go's ``text/tabwriter``: each column as wide as its widest cell + ``padding``, at least
    ``minwidth``; the last cell of a row is not padded."""
    widths: dict[int, int] = {}
    for row in cells:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 0), len(cell) + padding, minwidth)
    return "\n".join(
        "".join(c.ljust(widths[i]) for i, c in enumerate(row[:-1])) + row[-1] for row in cells
    ).rstrip("\n")


def _truncate(*args: Any) -> str:
    """``truncate .ID 5`` or ``.ID | truncate 5``."""
    text, size = (args[1], args[0]) if isinstance(args[0], int) else (args[0], args[1])
    return str(text)[: int(size)]


def _pad(*args: Any) -> str:
    """``pad .Name 2 3`` or ``.Name | pad 2 3``: spaces before and after."""
    piped = len(args) == 3 and all(isinstance(a, int) for a in args[:2])
    text, before, after = (args[2], *args[:2]) if piped else (args[0], *args[1:3])
    return " " * int(before) + str(text) + " " * int(after)


def _join(*args: Any) -> str:
    """``join .Names ","`` or ``.Names | join ","``."""
    items = next(a for a in args if isinstance(a, list | tuple))
    sep = next((a for a in args if isinstance(a, str)), " ")
    return sep.join(_go_str(v) for v in items)


class _NoValue:
    pass


_NO_VALUE = _NoValue()

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": lambda v: json.dumps(v, separators=(",", ":")),
    "upper": lambda v: str(v).upper(),
    "lower": lambda v: str(v).lower(),
    "title": lambda v: str(v).title(),
    "join": _join,
    "split": lambda *a: str(a[0]).split(str(a[1])),
    "truncate": _truncate,
    "pad": _pad,
    "println": lambda *a: " ".join(_go_str(v) for v in a) + "\n",
}
