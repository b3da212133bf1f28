""".dockerignore: reading the file and BuildKit's pattern matcher (moby/patternmatcher).

Reading: a line is a comment only if ``#`` is in column 1; lines are trimmed; ``!`` re-includes;
each pattern is ``filepath.Clean``-ed and loses one leading ``/``. Matching: patterns apply in
order and the last match wins; a pattern matches a path or any of its parent directories;
``*``/``?`` stay inside one path element, ``**`` spans any number of them (a leading ``**/``
is a suffix match, a trailing ``/**`` a prefix match). A malformed pattern fails the build.

``<Dockerfile>.dockerignore`` beside the Dockerfile replaces the context's ``.dockerignore``.
``IgnoreRules.match(path)`` also says which line decided, so a COPY of an excluded file can
name the rule.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from msgspec import Struct, field

from compose.build import gopath

_ESCAPE = set(".+()|{}$")


class PatternError(ValueError):
    pass


class Pattern(Struct):
    text: str  # cleaned, without "!"
    exclusion: bool = False
    source_line: int = 0
    kind: str = ""  # exact | prefix | suffix | regexp
    regex: re.Pattern[str] | None = None
    dirs: int = 0

    def __post_init__(self) -> None:
        self.dirs = len(self.text.split("/"))
        self._compile()

    def _compile(self) -> None:
        out = ["^"]
        kind = "exact"
        text = self.text
        i = 0
        token = -1
        while i < len(text):
            token += 1
            ch = text[i]
            i += 1
            if ch == "*" and i < len(text) and text[i] == "*":
                i, kind = _double_star(text, i + 1, kind, out)
                kind = "suffix" if token == 0 else kind
            elif ch in "*?":
                out.append("[^/]*" if ch == "*" else "[^/]")
                kind = "regexp"
            elif ch in _ESCAPE:
                out.append("\\" + ch)
            elif ch == "\\" and i < len(text):
                out.append(re.escape(text[i]))
                i += 1
                kind = "regexp"
            else:
                out.append("\\\\" if ch == "\\" else ch)
                kind = "regexp" if ch in "[]" else kind
        self.kind = kind
        if kind == "regexp":
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FutureWarning)
                    self.regex = re.compile("".join(out) + "$")
            except re.error as err:
                raise PatternError(f"invalid pattern {self.text!r}: {err}") from None

    def match(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        assert self.regex is not None
        return self.regex.match(path) is not None


def _double_star(text: str, i: int, kind: str, out: list[str]) -> tuple[int, str]:
    """``**`` (``i`` is past it): an optional ``/`` follows; returns (position, match kind)."""
    if i < len(text) and text[i] == "/":
        i += 1
    if i < len(text):
        out.append("(.*/)?")
        return i, "regexp"
    if kind == "exact":
        return i, "prefix"
    out.append(".*")
    return i, "regexp"


class PatternMatcher(Struct):
    patterns: list[Pattern] = field(default_factory=list)

    @property
    def exclusions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    @classmethod
    def from_lines(
        cls, lines: list[str] | tuple[str, ...], numbers: list[int] | None = None
    ) -> PatternMatcher:
        out = []
        for index, raw in enumerate(lines):
            text = raw.strip()
            if not text:
                continue
            text = gopath.clean(text)
            exclusion = text.startswith("!")
            if exclusion:
                if len(text) == 1:
                    raise PatternError('illegal exclusion pattern: "!"')
                text = text[1:]
            try:
                gopath.check_pattern(text)
            except gopath.BadPattern:
                raise PatternError(f"syntax error in pattern {raw!r}") from None
            number = numbers[index] if numbers else index + 1
            out.append(Pattern(text, exclusion, number))
        return cls(out)

    def decide(self, path: str) -> Pattern | None:
        """The pattern that decides ``path`` (or a parent of it), None if none matches;
        the path is excluded when the result is a non-exclusion pattern."""
        matched = False
        decider: Pattern | None = None
        parent = gopath.clean(path).rsplit("/", 1)[0] if "/" in path else "."
        parent_dirs = parent.split("/")
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            hit = pattern.match(path)
            if not hit and parent != ".":
                hit = any(
                    pattern.match("/".join(parent_dirs[: i + 1])) for i in range(len(parent_dirs))
                )
            if hit:
                matched = not pattern.exclusion
                decider = pattern
        return decider if matched or decider is not None else None

    def matches(self, path: str) -> bool:
        """``MatchesOrParentMatches``: is ``path`` (relative, ``/``-separated) excluded?"""
        decider = self.decide(path)
        return decider is not None and not decider.exclusion

    def matches_direct(self, path: str, parent_excluded: bool) -> bool:
        """``MatchesUsingParentResult``: for a tree walk that knows the parent's answer."""
        matched = parent_excluded
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            if pattern.match(path):
                matched = not pattern.exclusion
        return matched


def read_ignore_file(text: str) -> tuple[list[str], list[int]]:
    """(patterns, their 1-based line numbers), as ``ignorefile.ReadAll`` reads them."""
    patterns: list[str] = []
    numbers: list[int] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r")
        if number == 1:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip()
        if line:
            line = gopath.clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append("!" + line if invert else line)
        numbers.append(number)
    return patterns, numbers


class IgnoreRules(Struct):
    """The ignore file in effect for one context (empty when there is none)."""

    matcher: PatternMatcher
    file: str = ""  # display name of the file the rules came from

    @classmethod
    def none(cls) -> IgnoreRules:
        return cls(PatternMatcher())

    @classmethod
    def for_context(cls, context: Path, dockerfile: Path | None = None) -> IgnoreRules:
        """``<dockerfile>.dockerignore`` beside the Dockerfile, else ``<context>/.dockerignore``."""
        candidates = []
        if dockerfile is not None:
            candidates.append(dockerfile.with_name(dockerfile.name + ".dockerignore"))
        candidates.append(context / ".dockerignore")
        for path in candidates:
            try:
                text = path.read_text(encoding="utf-8", errors="surrogateescape")
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
            patterns, numbers = read_ignore_file(text)
            try:
                return cls(PatternMatcher.from_lines(patterns, numbers), str(path))
            except PatternError as err:
                raise PatternError(f"{path}: {err}") from None
        return cls.none()

    def excluded(self, rel: str) -> bool:
        return bool(self.matcher.patterns) and self.matcher.matches(rel)

    def explain(self, rel: str) -> str | None:
        """``.dockerignore:3: node_modules`` when a rule excludes ``rel``, else None."""
        decider = self.matcher.decide(rel) if self.matcher.patterns else None
        if decider is None or decider.exclusion:
            return None
        name = Path(self.file).name if self.file else ".dockerignore"
        return f"{name}:{decider.source_line}: {decider.text}"
