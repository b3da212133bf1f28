"""Go's ``path/filepath`` semantics the Dockerfile rules are written in (Unix flavour).

``clean`` is ``filepath.Clean``; ``match`` is ``filepath.Match`` (``*`` and ``?`` never cross
``/``, ``[...]`` classes negated with ``^``, ``\\`` escapes; a malformed pattern raises
``BadPattern`` even when the name does not match, as Go reports ``ErrBadPattern``).
``has_wildcards`` is BuildKit's ``containsWildcards``. Python's ``fnmatch`` differs on all of
these (``[!...]``, ``*`` crossing ``/``, no syntax errors), hence this module.
"""

from __future__ import annotations

from collections.abc import Callable

MAX_LINKS = 255


class BadPattern(ValueError):
    def __init__(self) -> None:
        super().__init__("syntax error in pattern")


def clean(path: str) -> str:
    """``filepath.Clean``: the shortest equivalent path; ``""`` -> ``"."``."""
    if not path:
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    joined = "/".join(out)
    if rooted:
        return "/" + joined
    return joined or "."


def join(*parts: str) -> str:
    """``filepath.Join``: join the non-empty parts, then clean."""
    kept = [p for p in parts if p]
    return clean("/".join(kept)) if kept else ""


def has_wildcards(name: str) -> bool:
    i = 0
    while i < len(name):
        ch = name[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "*?[":
            return True
        i += 1
    return False


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    star = False
    while pattern.startswith("*"):
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 < len(pattern):
                i += 1
        elif ch == "[":
            in_range = True
        elif ch == "]":
            in_range = False
        elif ch == "*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: str) -> tuple[str, str]:
    if not chunk or chunk[0] in "-]":
        raise BadPattern()
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern()
    ch, rest = chunk[0], chunk[1:]
    if not rest:
        raise BadPattern()
    return ch, rest


def _match_class(chunk: str, ch: str | None) -> tuple[bool, str]:
    """``chunk`` starts after ``[``; (matched, rest of the chunk after ``]``)."""
    negated = chunk.startswith("^")
    if negated:
        chunk = chunk[1:]
    matched = False
    ranges = 0
    while True:
        if chunk.startswith("]") and ranges > 0:
            chunk = chunk[1:]
            break
        lo, chunk = _get_esc(chunk)
        hi = lo
        if chunk[0] == "-":
            hi, chunk = _get_esc(chunk[1:])
        if ch is not None and lo <= ch <= hi:
            matched = True
        ranges += 1
    return matched != negated, chunk


def _match_chunk(chunk: str, s: str) -> str | None:
    """The rest of ``s`` after ``chunk`` matched its start, or None (BadPattern if malformed)."""
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        head = chunk[0]
        if head == "[":
            ch = None if failed else s[0]
            if not failed:
                s = s[1:]
            ok, chunk = _match_class(chunk[1:], ch)
            failed = failed or not ok
            continue
        if head == "?":
            if not failed:
                failed = s[0] == "/"
                s = s[1:]
            chunk = chunk[1:]
            continue
        if head == "\\":
            chunk = chunk[1:]
            if not chunk:
                raise BadPattern()
        if not failed:
            failed = chunk[0] != s[0]
            s = s[1:]
        chunk = chunk[1:]
    return None if failed else s


def _check_rest(pattern: str) -> None:
    while pattern:
        _star, chunk, pattern = _scan_chunk(pattern)
        _match_chunk(chunk, "")


def match(pattern: str, name: str) -> bool:
    """``filepath.Match(pattern, name)``; raises BadPattern for a malformed pattern."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return "/" not in name
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if star:
            found = _match_after_star(chunk, name, last=not pattern)
            if found is not None:
                name = found
                continue
        _check_rest(pattern)
        return False
    return not name


def _match_after_star(chunk: str, name: str, *, last: bool) -> str | None:
    i = 0
    while i < len(name) and name[i] != "/":
        rest = _match_chunk(chunk, name[i + 1 :])
        if rest is not None and not (last and rest):
            return rest
        i += 1
    return None


def check_pattern(pattern: str) -> None:
    """Raise BadPattern if ``pattern`` is malformed (Go: ``filepath.Match(p, ".")``)."""
    match(pattern, ".")


def follow_links(
    path: str,
    readlink: Callable[[str], str | None],
    *,
    follow_last: bool = True,
    check: Callable[[str, str, int], None] | None = None,
) -> str:
    """``path`` with its symlinks followed, ``/`` being the root it lives in (BuildKit's
    ``RootPath``: never above that root). ``readlink(rel)`` is the target of ``rel`` when it
    is a symlink, else None; ``check(link, target, depth)`` may refuse a link. Returns the
    resolved path relative to the root ("" for the root)."""
    parts = [p for p in path.split("/") if p and p != "."]
    done: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            done = done[:-1]
            continue
        candidate = "/".join([*done, part])
        target = readlink(candidate) if (follow_last or parts) else None
        if target is None:
            done.append(part)
            continue
        links += 1
        if links > MAX_LINKS:
            raise OSError(f"{path}: too many levels of symbolic links")
        if check is not None:
            check(candidate, target, len(done))
        done = [] if target.startswith("/") else done
        parts = [p for p in target.split("/") if p and p != "."] + parts
    return "/".join(done)
