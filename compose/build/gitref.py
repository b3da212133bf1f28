"""Git references as BuildKit reads them (``dfgitutil.ParseGitRef``, ``gitutil.ParseURL``): a
build context, an additional context or an ADD source that names a git repository.

    parse("https://host/org/repo.git#main:web")   -> GitRef(remote=..., ref="main", subdir="web")
    parse("git@host:org/repo?tag=v1&subdir=web")  -> GitRef(..., ref="refs/tags/v1", ...)
    parse("./web") / parse("https://host/x.tgz")  -> None (not git)

The forms: a URL with scheme ``http``, ``https`` (only when its path ends in ``.git``), ``git`` or
``ssh``; the scp form ``user@host:path``; the legacy ``github.com/org/repo`` (fetched over https).
The fragment is ``#ref:subdir``; BuildKit's query form ``?ref=&tag=&branch=&subdir=&checksum=
&keep-git-dir=&submodules=`` says the same (a conflict between the two is an error). Pure: no
I/O; ``GitRefError`` for a git reference that is malformed.
"""

from __future__ import annotations

import posixpath
import re
import urllib.parse

from msgspec import Struct

_SCHEME = re.compile(r"^[a-zA-Z0-9]+://")
_SCP = re.compile(r"^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:\?(.*?))?(?:#(.*))?$")
_GIT_SCHEMES = ("http", "https", "ssh", "git")
_FLAGS = ("submodules", "keep-git-dir", "fetch-by-commit")  # may be given without a value
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class GitRefError(ValueError):
    """A git reference that BuildKit refuses (conflicting or unknown query keys ...)."""


class GitRef(Struct, frozen=True):
    remote: str  # what git fetches (no fragment, no query)
    ref: str = ""  # a branch, tag, full ref name or commit SHA; "" = the default branch
    subdir: str = ""  # below the repository's root, "" = the root
    checksum: str = ""  # a commit SHA (prefix) the ref must resolve to
    keep_git_dir: bool | None = None
    submodules: bool | None = None
    mtime: str = ""  # "commit": files get the commit's time ("" / "checkout": the fetch's)

    @property
    def short_name(self) -> str:
        return self.remote.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")

    @property
    def fetch_url(self) -> str:
        """The URL for git (the legacy ``github.com/...`` form is fetched over https)."""
        return "https://" + self.remote if self.remote.startswith("github.com/") else self.remote

    @property
    def clean_subdir(self) -> str:
        return posixpath.normpath("/" + self.subdir).lstrip("/") if self.subdir else ""

    @property
    def is_commit(self) -> bool:
        return bool(_SHA.fullmatch(self.ref))


def is_git(value: str, *, context: bool = True) -> bool:
    """Does ``value`` name a git repository (a malformed one counts: it errors later)? The
    legacy ``github.com/org/repo`` form counts for contexts only, not for ADD (as BuildKit)."""
    if not context and value.startswith("github.com/"):
        return False
    try:
        return parse(value) is not None
    except GitRefError:
        return True


def parse(value: str) -> GitRef | None:
    """The git reference ``value`` names, None when it is no git reference."""
    if value.startswith(("./", "../")):
        return None
    if value.startswith("github.com/"):
        parts = urllib.parse.urlsplit("https://" + value)
        remote = value.split("#", 1)[0].split("?", 1)[0]
        return _options(remote, parts.query, parts.fragment)
    if _SCHEME.match(value):
        parts = urllib.parse.urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme not in _GIT_SCHEMES:
            return None
        if scheme in ("http", "https") and not parts.path.endswith(".git"):
            return None
        remote = urllib.parse.urlunsplit(parts._replace(query="", fragment=""))
        return _options(remote, parts.query, parts.fragment)
    scp = _SCP.match(value)
    if scp is None:
        return None
    user, host, path, query, fragment = scp.groups()
    return _options(f"{user}@{host}:{path}", query or "", fragment or "")


def _options(remote: str, query: str, fragment: str) -> GitRef:
    ref, subdir = "", ""
    if fragment:
        ref, _, subdir = fragment.partition(":")
        subdir = posixpath.normpath("/" + subdir).lstrip("/") if subdir else ""
    fields: dict[str, str | bool | None] = {"ref": ref, "subdir": subdir}
    _query(urllib.parse.parse_qs(query, keep_blank_values=True), fields)
    return GitRef(remote, **fields)  # type: ignore[arg-type]


def _query(query: dict[str, list[str]], fields: dict[str, str | bool | None]) -> None:
    names: dict[str, str] = {}  # tag, branch
    for key, values in query.items():
        if len(values) > 1:
            raise GitRefError(f"query {key!r} has multiple values")
        value = values[0] if values else ""
        if not value and key not in _FLAGS:
            raise GitRefError(f"query {key!r} has no value")
        _one(key, value, fields, names)
    tag, branch = names.get("tag", ""), names.get("branch", "")
    if tag:
        _set(fields, "ref", tag if tag.startswith("refs/tags/") else "refs/tags/" + tag)
    if branch:
        if tag:
            raise GitRefError("branch conflicts with tag")
        _set(fields, "ref", branch if branch.startswith("refs/heads/") else "refs/heads/" + branch)


def _one(key: str, value: str, fields: dict[str, str | bool | None], names: dict[str, str]) -> None:
    if key in ("ref", "subdir"):
        _set(fields, key, value)
    elif key in ("tag", "branch"):
        names[key] = value
    elif key in ("checksum", "commit"):
        fields["checksum"] = value
    elif key in ("keep-git-dir", "submodules"):
        fields[key.replace("-", "_")] = _bool(key, value)
    elif key == "fetch-by-commit":
        _bool(key, value)  # accepted: a commit given by its SHA is always fetched by it
    elif key == "mtime":
        if value not in ("checkout", "commit"):
            raise GitRefError(f"invalid mtime value: {value!r} (must be checkout or commit)")
        fields["mtime"] = value
    else:
        raise GitRefError(f"unexpected query {key!r}")


def _set(fields: dict[str, str | bool | None], key: str, value: str) -> None:
    old = fields[key]
    if old and old != value:
        raise GitRefError(f"{key} conflicts: {old!r} vs {value!r}")
    fields[key] = value


def _bool(key: str, value: str) -> bool:
    from compose.build.gofmt import parse_bool

    try:
        return parse_bool(value) if value else True
    except ValueError:
        raise GitRefError(f"invalid {key} value: {value!r}") from None


def redact(text: str) -> str:
    """``text`` with the credentials of every ``scheme://user[:password]@`` masked as BuildKit
    masks them (``xxxxx:xxxxx@``, ``xxxxx@``)."""
    return _CREDENTIALS.sub(
        lambda m: m.group(1) + ("xxxxx:xxxxx@" if m.group(3) is not None else "xxxxx@"), text
    )


_CREDENTIALS = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@\s:]+)(:[^/@\s]*)?@")
