"""Dockerfile text -> a list of instruction nodes, exactly as BuildKit's parser splits it.

Rules (BuildKit ``frontend/dockerfile/parser``; its ``testfiles`` are unit tests here):

- parser directives (``# syntax=``, ``# escape=``, ``# check=``) only in the leading block of
  ``#`` lines; a blank line, an instruction, another comment or an unknown key ends the block; a
  repeated key is an error; ``escape`` is `` ` `` or ``\\``;
- the escape character as the last non-blank character continues the line (no space is
  inserted; an escaped escape does not continue); comment lines inside a continuation are
  dropped, empty ones too (``NoEmptyContinuation`` warning);
- after the keyword, ``--flag`` words are the instruction's flags (``--`` ends them);
- RUN/CMD/ENTRYPOINT/SHELL: a valid JSON array of strings is the exec form, anything else is
  the whole text (a JSON array holding a non-string is an error); ADD/COPY/VOLUME: JSON or
  split on whitespace (quotes do not group); ENV/LABEL: ``k=v ...`` with quote-aware words or
  the legacy ``k v`` form; ARG: ``name[=default] ...``; FROM/EXPOSE: whitespace split;
  HEALTHCHECK: a type word then maybe-JSON; ONBUILD: a nested instruction;
- heredocs (``<<EOF``, ``<<-EOF``, quoted delimiters) after RUN, COPY, ADD (and ONBUILD of
  them) in shell form: the body lines follow the instruction up to the delimiter line.

``Node.dump()`` prints BuildKit's ``Node.Dump`` S-expression, so the conformance data compares
byte for byte. Errors are ``ParseError`` with the 1-based line.
"""

from __future__ import annotations

import json
import re

from msgspec import Struct, field

from compose.build.lexer import Lexer, LexError

MAX_LINE = 64 * 1024  # bufio.MaxScanTokenSize: a longer line is an error, as in BuildKit
DIRECTIVE_KEYS = ("syntax", "escape", "check")
HEREDOC_INSTRUCTIONS = ("add", "copy", "run")
_WS = re.compile(r"[\t\v\f\r ]+")
_DIRECTIVE = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"^(\d*)<<(-?)\s*([^<]*)$", re.DOTALL)
_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)
_GO_SPACE = " \t\n\v\f\r\x85\xa0"
_BOM = "\ufeff"


class ParseError(ValueError):
    def __init__(self, message: str, line: int, end_line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.end_line = end_line if end_line is not None else line


class Heredoc(Struct, frozen=True):
    name: str
    fd: int = 0
    expand: bool = True
    chomp: bool = False
    content: str = ""

    def body(self) -> str:
        """The content as the instruction uses it (``<<-`` strips leading tabs)."""
        return _LEADING_TABS.sub("", self.content) if self.chomp else self.content


class Node(Struct):
    """One instruction: ``value`` is the keyword as written, ``args`` the parsed arguments
    (strings, or one ``Node`` for ONBUILD's nested instruction)."""

    value: str
    args: list[str | Node] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    json: bool = False
    original: str = ""
    heredocs: list[Heredoc] = field(default_factory=list)
    start_line: int = 0
    end_line: int = 0
    comments: list[str] = field(default_factory=list)

    @property
    def keyword(self) -> str:
        return self.value.lower()

    def flat_args(self) -> list[str]:
        """BuildKit's ``nodeArgs``: a nested instruction contributes its keyword + args."""
        out: list[str] = []
        for arg in self.args:
            if isinstance(arg, Node):
                out.append(arg.value)
                out.extend(arg.flat_args())
            else:
                out.append(arg)
        return out

    def can_contain_heredoc(self) -> bool:
        node: Node = self
        if self.keyword == "onbuild" and self.args and isinstance(self.args[0], Node):
            node = self.args[0]
        return node.keyword in HEREDOC_INSTRUCTIONS and not node.json

    def dump(self) -> str:
        out = self.value.lower()
        if self.flags:
            out += " [" + " ".join(go_quote(f) for f in self.flags) + "]"
        for arg in self.args:
            out += " " + (f"({arg.dump()})" if isinstance(arg, Node) else go_quote(arg))
        return out.strip()


class Warning(Struct, frozen=True):
    message: str
    line: int


class Dockerfile(Struct):
    nodes: list[Node]
    escape: str = "\\"
    directives: dict[str, str] = field(default_factory=dict)
    warnings: list[Warning] = field(default_factory=list)

    def dump(self) -> str:
        return "".join(f"({n.dump()})\n" for n in self.nodes)


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote``."""
    out = ['"']
    for ch in text:
        out.append(_quote_char(ch))
    out.append('"')
    return "".join(out)


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES |= {"\v": "\\v", '"': '\\"', "\\": "\\\\"}


def _quote_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ch == " " or (ch.isprintable() and ch != "\u00ad"):
        return ch
    code = ord(ch)
    if code < 0x80:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


# -- directives -------------------------------------------------------------------------------
class _Directives:
    def __init__(self) -> None:
        self.escape = "\\"
        self.values: dict[str, str] = {}
        self.done = False
        self._continuation = self._regex("\\")

    @staticmethod
    def _regex(escape: str) -> re.Pattern[str]:
        e = re.escape(escape)
        return re.compile(rf"([^{e}]){e}[ \t]*\Z|^{e}[ \t]*\Z")

    def parse_line(self, line: str) -> bool:
        """Is ``line`` a parser directive? (ends the directive block otherwise)"""
        if self.done:
            return False
        if not line.startswith("#"):
            self.done = True
            return False
        found = _DIRECTIVE.match(line[1:].lstrip(_GO_SPACE))
        key = found.group(1).lower() if found else ""
        if key not in DIRECTIVE_KEYS:
            self.done = True
            return False
        assert found is not None
        if key in self.values:
            raise ValueError(f"only one {key} parser directive can be used")
        value = found.group(2)
        self.values[key] = value
        if key == "escape":
            if value not in ("`", "\\"):
                raise ValueError(f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
            self._continuation = self._regex(value)
        return True

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        """(line without the continuation char, is this the end of the instruction)."""
        if self._continuation.search(line):
            return self._continuation.sub(lambda m: m.group(1) or "", line), False
        return line, True


# -- lines ------------------------------------------------------------------------------------
def _split_lf(text: str) -> list[str]:
    """Lines split on ``\\n`` only, endings kept (BuildKit's scanLines), length-checked."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE // 4 and len(line.encode("utf-8", "surrogateescape")) > MAX_LINE:
            raise ParseError(
                f"dockerfile line greater than max allowed size of {MAX_LINE - 1}", number
            )
    return lines


def _is_comment(line: str) -> bool:
    return line.lstrip(_GO_SPACE).startswith("#")


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


class _Reader:
    def __init__(self, text: str) -> None:
        self.lines = _split_lf(text)
        self.index = 0

    def next(self) -> str | None:
        if self.index >= len(self.lines):
            return None
        line = self.lines[self.index]
        self.index += 1
        return line


def _process_line(d: _Directives, raw: str, strip_left: bool) -> tuple[str, bool]:
    token = _trim_newline(raw)
    if strip_left:
        token = token.lstrip(_GO_SPACE)
    directive = d.parse_line(token)
    return ("" if _is_comment(token) else token), directive


def parse(text: str) -> Dockerfile:
    """Parse a whole Dockerfile; ParseError (with the line) on the first problem."""
    reader = _Reader(text.removeprefix(_BOM))
    d = _Directives()
    nodes: list[Node] = []
    warnings: list[Warning] = []
    comments: list[str] = []
    while (raw := reader.next()) is not None:
        if _is_comment(raw):
            comment = raw[1:].strip(_GO_SPACE)
            comments = [*comments, comment] if comment else []
        try:
            token, directive = _process_line(d, raw, True)
        except ValueError as err:
            raise ParseError(str(err), reader.index) from None
        if directive:
            comments = comments[:-1]
        start = reader.index
        token, end = d.trim_continuation(token)
        if end and not token:
            continue
        line, empty_continuation = _continued(d, reader, token, end)
        if empty_continuation:
            warnings.append(Warning(f"Empty continuation line found in: {line}", reader.index))
        try:
            node = node_from_line(line, d.escape, comments)
        except ValueError as err:
            raise ParseError(str(err), start, reader.index) from None
        if node.can_contain_heredoc() and "<<" in line:
            _read_heredocs(node, line, reader, start)
        node.start_line, node.end_line = start, reader.index
        nodes.append(node)
        comments = []
    if not nodes:
        raise ParseError("file with no instructions", reader.index)
    return Dockerfile(nodes, d.escape, dict(d.values), warnings)


def _continued(d: _Directives, reader: _Reader, token: str, end: bool) -> tuple[str, bool]:
    """The instruction's lines joined (continuation characters removed, comment lines and
    empty lines inside dropped), and whether an empty continuation line was seen."""
    parts = [token]
    empty = False
    while not end and (raw := reader.next()) is not None:
        token, _ = _process_line(d, raw, False)
        if _is_comment(raw):
            continue
        if not _trim_newline(token).lstrip(_GO_SPACE):
            empty = True
            continue
        token, end = d.trim_continuation(token)
        parts.append(token)
    return "".join(parts), empty


def _read_heredocs(node: Node, line: str, reader: _Reader, start: int) -> None:
    try:
        docs = heredocs_from_line(line)
    except ValueError as err:
        raise ParseError(str(err), start, reader.index) from None
    for doc in docs:
        content: list[str] = []
        while True:
            raw = reader.next()
            if raw is None:
                raise ParseError("unterminated heredoc", start, reader.index)
            candidate = _trim_newline(raw)
            if doc.chomp:
                candidate = candidate.lstrip("\t")
            if candidate == doc.name:
                break
            content.append(raw)
        node.heredocs.append(
            Heredoc(doc.name, doc.fd, doc.expand, doc.chomp, doc.content + "".join(content))
        )


# -- heredoc words ----------------------------------------------------------------------------
def parse_heredoc(word: str) -> Heredoc | None:
    """``<<EOF``, ``<<-EOF``, ``3<<"EOF"`` ... as a Heredoc (no content), else None."""
    found = _HEREDOC.match(word)
    if not found:
        return None
    fd = int(found.group(1)) if found.group(1) else 0
    rest = found.group(3)
    if not rest:
        return None
    plain = Lexer("\\", skip_unset=True)
    try:
        words = plain.words(rest, {})
        if len(words) != 1:
            return None
        raw = Lexer("\\", skip_unset=True, raw_quotes=True).words(rest, {})
    except LexError as err:
        raise ValueError(str(err)) from None
    if len(raw) != len(words):
        raise ValueError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    quotes = words[0].count("'") + words[0].count('"')
    raw_quotes = raw[0].count("'") + raw[0].count('"')
    return Heredoc(words[0], fd, expand=quotes == raw_quotes, chomp=found.group(2) == "-")


def heredocs_from_line(line: str) -> list[Heredoc]:
    lex = Lexer("\\", raw_quotes=True, raw_escapes=True, skip_unset=True)
    try:
        words = lex.words(line, {})
    except LexError:
        words = []
    return [doc for word in words if (doc := parse_heredoc(word)) is not None]


# -- one instruction --------------------------------------------------------------------------
def split_command(line: str, escape: str) -> tuple[str, list[str], str]:
    """(keyword, flags, rest) of one joined instruction line."""
    parts = _WS.split(line.strip(_GO_SPACE), maxsplit=1)
    if len(parts) < 2:
        return parts[0], [], ""
    rest, flags = _extract_flags(parts[1], escape)
    return parts[0], flags, rest.strip(_GO_SPACE)


def _extract_flags(line: str, escape: str) -> tuple[str, list[str]]:
    """Leading ``--flag`` words (quotes and escapes processed inside them) and the rest."""
    words: list[str] = []
    pos = 0
    n = len(line)
    while pos < n:
        while pos < n and line[pos] in _GO_SPACE:
            pos += 1
        if pos >= n:
            return "", words
        if not line.startswith("--", pos):
            return line[pos:], words
        word, pos = _flag_word(line, pos, escape)
        if word == "--":
            return line[pos:], words
        if word is not None:
            words.append(word)
    return "", words


def _flag_word(line: str, pos: int, escape: str) -> tuple[str | None, int]:
    out: list[str] = []
    quote = ""
    blank_ok = False
    n = len(line)
    while pos < n:
        ch = line[pos]
        if not quote and ch in _GO_SPACE:
            break
        if not quote and ch in "'\"":
            quote, blank_ok = ch, True
        elif quote and ch == quote:
            quote = ""
        elif ch == escape:
            if pos + 1 == n:
                quote = ""
                pos += 1
                continue
            pos += 1
            out.append(line[pos])
        else:
            out.append(ch)
        pos += 1
    word = "".join(out)
    if word == "--":
        return word, pos
    return (word if blank_ok or word else None), pos


def parse_words(rest: str, escape: str) -> list[str]:
    """Quote-aware words (quotes and escapes kept: the lexer processes them later)."""
    if not any(ch in rest for ch in ("'", '"', escape)):
        return rest.split()
    return _WordSplitter(rest, escape).split()


class _WordSplitter:
    def __init__(self, rest: str, escape: str) -> None:
        self.rest, self.escape = rest, escape
        self.words: list[str] = []
        self.buf: list[str] = []
        self.quote = ""
        self.blank_ok = False
        self.in_word = False
        self.pos = 0

    def split(self) -> list[str]:
        while self.pos < len(self.rest):
            ch = self.rest[self.pos]
            if not self.in_word and ch.isspace():
                self.pos += 1
                continue
            self.in_word = True
            if self.quote:
                self._quoted(ch)
            else:
                self._plain(ch)
        if self.in_word and (self.blank_ok or self.buf):
            self.words.append("".join(self.buf))
        return self.words

    def _take_escaped(self, ch: str) -> None:
        """``ch`` is the escape character: keep it and the next one (skip it at the end)."""
        if self.pos + 1 == len(self.rest):
            self.quote = ""
            self.pos += 1
            return
        self.buf += [ch, self.rest[self.pos + 1]]
        self.pos += 2

    def _plain(self, ch: str) -> None:
        if ch.isspace():
            if self.blank_ok or self.buf:
                self.words.append("".join(self.buf))
            self.buf, self.blank_ok, self.in_word = [], False, False
            self.pos += 1
            return
        if ch in "'\"":
            self.quote, self.blank_ok = ch, True
        if ch == self.escape:
            self._take_escaped(ch)
            return
        self.buf.append(ch)
        self.pos += 1

    def _quoted(self, ch: str) -> None:
        if ch == self.quote:
            self.quote = ""
        elif ch == self.escape and self.quote != "'":
            self._take_escaped(ch)
            return
        self.buf.append(ch)
        self.pos += 1


class _NotJSON(Exception):
    pass


def _reject_constant(name: str) -> None:
    raise _NotJSON(name)


def _parse_json(rest: str) -> list[str] | None:
    """A JSON array of strings, None if ``rest`` is not a JSON array; ValueError if it is one
    holding something else than strings."""
    rest = rest.lstrip(_GO_SPACE)
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest, parse_constant=_reject_constant)
    except (ValueError, _NotJSON):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise ValueError("when using JSON array syntax, arrays must be comprised of strings only")
    return value


def _maybe_json(rest: str) -> tuple[list[str | Node], bool]:
    if not rest:
        return [], False
    found = _parse_json(rest)
    if found is not None:
        return list(found), True
    return [rest], False


def _maybe_json_list(rest: str) -> tuple[list[str | Node], bool]:
    found = _parse_json(rest)
    if found is not None:
        return list(found), True
    return ([*_WS.split(rest)] if rest else []), False


def _name_val(rest: str, key: str, escape: str) -> list[str | Node]:
    words = parse_words(rest, escape)
    if not words:
        return []
    if "=" not in words[0]:
        parts = _WS.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise ValueError(f"{key} must have two arguments")
        return [parts[0], parts[1], ""]
    out: list[str | Node] = []
    for word in words:
        if "=" not in word:
            raise ValueError(
                f"Syntax error - can't find = in {go_quote(word)}. Must be of the form: name=value"
            )
        name, _, value = word.partition("=")
        out += [name, value, "="]
    return out


def _health(rest: str) -> tuple[list[str | Node], bool]:
    sep = 0
    while sep < len(rest) and rest[sep] not in _GO_SPACE:
        sep += 1
    if sep == 0:
        return [], False
    nxt = sep
    while nxt < len(rest) and rest[nxt] in _GO_SPACE:
        nxt += 1
    cmd, is_json = _maybe_json(rest[nxt:])
    return [rest[:sep], *cmd], is_json


def _arguments(keyword: str, rest: str, escape: str) -> tuple[list[str | Node], bool]:
    if keyword in ("run", "cmd", "entrypoint", "shell"):
        return _maybe_json(rest)
    if keyword in ("add", "copy", "volume"):
        return _maybe_json_list(rest)
    if keyword in ("env", "label"):
        return _name_val(rest, "ENV" if keyword == "env" else "LABEL", escape), False
    if keyword == "arg":
        return list(parse_words(rest, escape)), False
    if keyword in ("from", "expose"):
        return ([*_WS.split(rest)] if rest else []), False
    if keyword in ("user", "workdir", "stopsignal", "maintainer"):
        return ([rest] if rest else []), False
    if keyword == "healthcheck":
        return _health(rest)
    if keyword == "onbuild":
        return ([node_from_line(rest, escape, [])] if rest else []), False
    return [""], False  # unknown instruction: rejected later with a suggestion


def node_from_line(line: str, escape: str, comments: list[str]) -> Node:
    keyword, flags, rest = split_command(line, escape)
    args, is_json = _arguments(keyword.lower(), rest, escape)
    return Node(keyword, args, flags, is_json, line, comments=list(comments))
