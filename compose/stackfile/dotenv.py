"""``.env`` / ``env_file`` parsing with compose-go ``dotenv`` syntax.

``KEY=VAL`` or ``KEY: VAL``, optional ``export `` prefix, ``#`` comment lines, inline `` #``
comments on unquoted values, single quotes literal (may span lines, ``\\'`` unescaped), double
quotes with ``\\n \\r \\t \\\\ \\" \\$`` escapes and interpolation, a bare ``KEY`` inherits from the
lookup. Keys starting with a digit are dropped. Variables expand from the lookup first, then from
values defined earlier in the same file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from compose.errors import UserError
from compose.stackfile.interpolate import TemplateError, substitute
from compose.stackfile.paths import read_utf8

Lookup = Callable[[str], "str | None"]
_SPACE = "\t\v\f\r \x85\xa0"
_ESCAPE_RE = re.compile(r"\\(?:[abcfnrtv$\"\\]|0[0-7]{0,3})")
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_EXPORT_RE = re.compile(r"export[ \t]+")


class DotenvError(ValueError):
    pass


def _no_lookup(_: str) -> str | None:
    return None


def parse_dotenv(text: str, lookup: Lookup | None = None) -> dict[str, str]:
    """Parse dotenv text; raises DotenvError("line N: ...")."""
    lookup = lookup or _no_lookup
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    out: dict[str, str] = {}
    pos = _statement_start(text, 0)
    while pos is not None:
        key, pos, inherited = _key(text, pos)
        if inherited:
            value = lookup(key)
            if value is not None:
                out[key] = value
        else:
            out[key], pos = _value(text, pos, out, lookup)
        pos = _statement_start(text, pos)
    return {k: v for k, v in out.items() if k and not k[:1].isdigit()}


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _statement_start(text: str, pos: int) -> int | None:
    n = len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            return None
        if text[pos] != "#":
            return pos
        nl = text.find("\n", pos)
        if nl < 0:
            return None
        pos = nl


def _key(text: str, pos: int) -> tuple[str, int, bool]:
    m = _EXPORT_RE.match(text, pos)
    if m:
        pos = m.end()
    start, i, n = pos, pos, len(text)
    while i < n and text[i] not in "=:\n":
        c = text[i]
        if not (c in _SPACE or c in "_.-[]" or c.isalnum()):
            raise DotenvError(f"line {_line(text, i)}: unexpected character {c!r} in variable name")
        i += 1
    key = text[start:i].rstrip()
    if " " in key or "\t" in key:
        raise DotenvError(f"line {_line(text, start)}: key cannot contain a space")
    if i >= n or text[i] == "\n":
        return key, i, True
    i += 1
    while i < n and text[i] in _SPACE:
        i += 1
    return key, i, False


def _value(text: str, pos: int, env: dict[str, str], lookup: Lookup) -> tuple[str, int]:
    quote = text[pos : pos + 1]
    if quote not in ("'", '"'):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl
        raw = text[pos:end].split(" #", 1)[0].rstrip()
        return _expand(raw, env, lookup, text, pos), end
    i = pos + 1
    while i < len(text):
        if text[i] == quote and text[i - 1] != "\\":
            raw = text[pos + 1 : i]
            if quote == "'":
                return raw.replace("\\'", "'"), i + 1
            return _expand(_unescape(raw), env, lookup, text, pos), i + 1
        i += 1
    first = text[pos:].split("\n", 1)[0]
    raise DotenvError(f"line {_line(text, pos)}: unterminated quoted value {first}")


def _unescape(raw: str) -> str:
    def repl(m: re.Match[str]) -> str:
        s = m.group(0)
        c = s[1]
        if c == "$":
            return "$$"
        if c == "0":
            return chr(int(s[2:], 8)) if len(s) == 5 else s
        return _ESCAPES.get(c, c)

    return _ESCAPE_RE.sub(repl, raw)


def _expand(raw: str, env: dict[str, str], lookup: Lookup, text: str, pos: int) -> str:
    def both(name: str) -> str | None:
        value = lookup(name)
        return env.get(name) if value is None else value

    try:
        return substitute(raw, both)
    except TemplateError as exc:
        raise DotenvError(f"line {_line(text, pos)}: {exc}") from None


def read_env_file(
    path: Path, lookup: Lookup | None = None, *, display: str | None = None
) -> dict[str, str]:
    """Read and parse an env file; errors become UserError naming the file."""
    name = display or str(path)
    try:
        text = read_utf8(path, name)
    except OSError as exc:
        raise UserError(f"{name}: cannot read env file: {exc.strerror or exc}") from None
    try:
        return parse_dotenv(text, lookup)
    except DotenvError as exc:
        raise UserError(f"{name}: {exc}") from None
