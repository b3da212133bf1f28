"""The Dockerfile word lexer: quotes, escapes and ``$var`` / ``${var...}`` substitution.

Behaves as BuildKit's ``frontend/dockerfile/shell`` lexer (its ``envVarTest`` and ``wordsTest``
tables are unit tests here): single quotes are literal; double quotes expand ``$`` and let the
escape character escape only ``"``, ``$`` and itself; outside quotes the escape character
escapes the next character; ``${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?msg} ${v?msg}``,
``${v#p} ${v##p} ${v%p} ${v%%p} ${v/p/r} ${v//p/r}`` (glob ``?``/``*``).

``Lexer(escape).word(text, env)`` gives the expanded string (ENV values, COPY paths...);
``.words(text, env)`` splits the result into words after substitution (EXPOSE, heredoc
detection). ``raw_quotes`` keeps the quote characters, ``raw_escapes`` the escape characters,
``skip_unset`` leaves references to unset variables as written, ``skip_quotes`` treats quotes
as plain characters (COPY heredoc bodies). ``used`` / ``unset`` collect the names looked up.

One deliberate difference: BuildKit shares one word buffer between nested ``${...}`` scans,
so ``words("a${x:-b}c")`` loses the ``a``; here each scan has its own buffer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from msgspec import Struct, field

EOF = ""
SPECIAL_PARAMS = frozenset("@*#?-$!0")
_SPECIAL = {e: re.compile("[$'\"<" + re.escape(e) + "]") for e in ("\\", "`")}


class LexError(ValueError):
    pass


class _Words(Struct):
    buf: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    in_word: bool = False

    def add_char(self, ch: str) -> None:
        if ch.isspace():
            if self.in_word and self.buf:
                self.words.append("".join(self.buf))
                self.buf.clear()
                self.in_word = False
        else:
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.buf.append(ch)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw_string(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def result(self) -> list[str]:
        if self.buf:
            self.words.append("".join(self.buf))
            self.buf.clear()
            self.in_word = False
        return self.words


class Lexer(Struct):
    escape: str = "\\"
    raw_quotes: bool = False
    raw_escapes: bool = False
    skip_unset: bool = False
    skip_quotes: bool = False

    def word(self, text: str, env: Mapping[str, str]) -> str:
        return self.process(text, env)[0]

    def words(self, text: str, env: Mapping[str, str]) -> list[str]:
        return self.process(text, env)[1]

    def process(self, text: str, env: Mapping[str, str]) -> tuple[str, list[str], _Scan]:
        scan = _Scan(self, text, env)
        if not _SPECIAL[self.escape].search(text):
            return text, text.split(), scan  # nothing to process: the common case
        try:
            result, words = scan.until(EOF, self.raw_escapes)
        except LexError as err:
            raise LexError(f"failed to process {_go_quote(text)}: {err}") from None
        return result, words, scan


def _go_quote(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{out}"'


class _Scan:
    def __init__(self, lex: Lexer, text: str, env: Mapping[str, str]) -> None:
        self.lex = lex
        self.text = text
        self.pos = 0
        self.env = env
        self.raw_escapes = lex.raw_escapes
        self.used: set[str] = set()
        self.unset: set[str] = set()

    # -- scanner --------------------------------------------------------------------------
    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else EOF

    def next(self) -> str:
        ch = self.peek()
        if ch:
            self.pos += 1
        return ch

    def lookup(self, name: str) -> str | None:
        if name in self.env:
            self.used.add(name)
            return self.env[name]
        self.unset.add(name)
        return None

    # -- words ----------------------------------------------------------------------------
    def until(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._until(stop)
        finally:
            self.raw_escapes = saved

    def _special(self, ch: str) -> str | None:
        if ch == "$":
            return self.dollar()
        if ch == "<":
            return self.possible_heredoc()
        if not self.lex.skip_quotes:
            if ch == "'":
                return self.single_quote()
            if ch == '"':
                return self.double_quote()
        return None

    def _until(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        while (ch := self.peek()) != EOF:
            if stop and ch == stop:
                self.next()
                return "".join(result), words.result()
            special = self._special(ch)
            if special is not None:
                result.append(special)
                if ch == "$":
                    words.add_string(special)
                else:
                    words.add_raw_string(special)
                continue
            ch = self.next()
            if ch == self.lex.escape:
                if self.raw_escapes:
                    words.add_raw_char(ch)
                    result.append(ch)
                ch = self.next()
                if ch == EOF:
                    break
                words.add_raw_char(ch)
            else:
                words.add_char(ch)
            result.append(ch)
        if stop:
            raise LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.result()

    def single_quote(self) -> str:
        out = []
        quote = self.next()
        if self.lex.raw_quotes:
            out.append(quote)
        while True:
            ch = self.next()
            if ch == EOF:
                raise LexError(
                    "unexpected end of statement while looking for matching single-quote"
                )
            if ch == "'":
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def double_quote(self) -> str:
        out = []
        quote = self.next()
        if self.lex.raw_quotes:
            out.append(quote)
        while True:
            ch = self.peek()
            if ch == EOF:
                raise LexError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self.next()
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            ch = self.next()
            if ch == self.lex.escape:
                if self.raw_escapes:
                    out.append(ch)
                following = self.peek()
                if following == EOF:
                    continue
                if following in ('"', "$", self.lex.escape):
                    ch = self.next()
            out.append(ch)

    def possible_heredoc(self) -> str:
        self.next()
        if self.peek() != "<":
            return "<"
        self.next()
        space = []
        while self.peek() in ("\t", "\r", " ") and self.peek() != EOF:
            space.append(self.next())
        return "<<" + "".join(space)

    def name(self) -> str:
        out: list[str] = []
        while (ch := self.peek()) != EOF:
            if not out and ch.isdigit():
                while self.peek() != EOF and self.peek().isdigit():
                    out.append(self.next())
                return "".join(out)
            if not out and ch in SPECIAL_PARAMS:
                return self.next()
            if not (ch.isalpha() or ch.isdigit() or ch == "_"):
                break
            out.append(self.next())
        return "".join(out)

    # -- substitution ---------------------------------------------------------------------
    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value = self.lookup(name)
            if value is None:
                return "$" + name if self.lex.skip_unset else ""
            return value
        self.next()
        if self.peek() == EOF:
            raise LexError("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise LexError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            value = self.lookup(name)
            if value is None:
                return f"${{{name}}}" if self.lex.skip_unset else ""
            return value
        if ch == "/":
            return self._replace(name)
        chs = ch
        null_is_unset = False
        if ch == ":":
            null_is_unset = True
            ch = self.next()
            chs += ch
        elif ch not in "+-?#%" or ch == EOF:
            raise LexError(f"unsupported modifier ({chs}) in substitution")
        return self._modifier(name, ch, chs, null_is_unset)

    def _modifier(self, name: str, ch: str, chs: str, null_is_unset: bool) -> str:
        pattern_mod = ch in ("#", "%") and ch != EOF
        if null_is_unset and pattern_mod:
            raise LexError(f"unsupported modifier ({chs}) in substitution")
        try:
            word, _ = self.until("}", pattern_mod)
        except LexError:
            if self.peek() == EOF:
                raise LexError("syntax error: missing '}'") from None
            raise
        value = self.lookup(name)
        if self.lex.skip_unset and value is None:
            return f"${{{name}{chs}{word}}}"
        empty = value is None or (null_is_unset and value == "")
        if ch == "-":
            return word if empty else str(value)
        if ch == "+":
            return "" if empty else word
        if ch == "?":
            return self._required(name, value, word, null_is_unset)
        if pattern_mod:
            greedy = word.startswith(ch)
            if greedy:
                word = word[1:]
            text = value or ""
            if ch == "%":
                return _trim_suffix(word, text, greedy)
            return _trim_prefix(word, text, greedy)
        raise LexError(f"unsupported modifier ({chs}) in substitution")

    @staticmethod
    def _required(name: str, value: str | None, word: str, null_is_unset: bool) -> str:
        if value is None:
            raise LexError(f"{name}: {word or 'is not allowed to be unset'}")
        if null_is_unset and value == "":
            raise LexError(f"{name}: {word or 'is not allowed to be empty'}")
        return value

    def _replace(self, name: str) -> str:
        replace_all = self.peek() == "/"
        if replace_all:
            self.next()
        try:
            pattern, _ = self.until("/", True)
        except LexError:
            if self.peek() == EOF:
                raise LexError("syntax error: missing '/' in ${}") from None
            raise
        try:
            replacement, _ = self.until("}", True)
        except LexError:
            if self.peek() == EOF:
                raise LexError("syntax error: missing '}'") from None
            raise
        value = self.lookup(name)
        if self.lex.skip_unset and value is None:
            return f"${{{name}/{pattern}/{replacement}}}"
        regex = shell_pattern_regex(pattern, greedy=True, anchored=False)
        text = value or ""
        return regex.sub(lambda _m: replacement, text, count=0 if replace_all else 1)


def shell_pattern_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """A shell glob (``?`` one char, ``*`` shortest or longest run) as a regular expression."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(star)
            continue
        if ch == "?":
            out.append(".")
            continue
        if ch == "\\":
            following = pattern[i] if i < len(pattern) else ""
            if following in ("}", "/"):
                continue
            if following not in ("*", "?", "\\"):
                raise LexError(
                    f"invalid pattern ({pattern}) in substitution: invalid escape '\\{following}'"
                )
            out.append("\\" + following)
            i += 1
            continue
        out.append(re.escape(ch) if ch in "[]{}.+()|^$" else ch)
    return re.compile("".join(out), re.DOTALL)


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    found = shell_pattern_regex(pattern, greedy=greedy, anchored=True).search(value)
    return value[found.end() :] if found else value


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern without reversing its escapes (``a\\*c`` -> ``c\\*a``)."""
    tokens: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i != len(pattern) - 1:
            tokens.append(pattern[i : i + 2])
            i += 2
        else:
            tokens.append(pattern[i])
            i += 1
    return "".join(reversed(tokens))


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]


def env_map(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["K=V", ...]`` (image config style) as a mapping; later entries win."""
    out: dict[str, str] = {}
    for item in pairs:
        key, _, value = item.partition("=")
        out[key] = value
    return out
