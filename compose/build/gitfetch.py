"""Git sources fetched with the ``git`` binary, checkouts kept in the image store by commit.

    checkout(GitRef, cache_dir, tmp, subject) -> Checkout(path, commit)

As BuildKit's git source (``source/git``): the ref is resolved with ``git ls-remote`` on every
build (a branch or tag may have moved; a full commit SHA needs no lookup; the default branch
comes from ``ls-remote --symref HEAD``; a branch wins over a tag of the same name; an annotated
tag is taken as its commit), then the commit is looked up in the cache: a checkout made before
is used as it is (so an unchanged remote builds CACHED), else it is fetched shallow (``--depth=1``
of that commit, or of everything when the server refuses a fetch by SHA), checked out, its
submodules updated, and reduced to what a build sees: the subdir's contents, ``.git`` dropped
unless ``keep-git-dir`` (and no subdir), files 0644 or 0755, directories 0755, owned by root.
With ``?mtime=commit`` every file gets the commit's time (else the time it was checked out).
The tree is published into the cache by rename: a failed or cancelled fetch leaves nothing.

Credentials are whatever git is configured with (credential helpers, ssh keys and agents); git
never prompts (``GIT_TERMINAL_PROMPT=0``, ssh in batch mode). Every message masks the
credentials of a URL (``gitref.redact``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
from pathlib import Path

from msgspec import Struct

from compose.build.gitref import GitRef, redact
from compose.errors import BuildError

LS_REMOTE_TIMEOUT = 120.0
FETCH_TIMEOUT = 1800.0
_SYMREF = re.compile(r"^ref: refs/heads/(\S+)\tHEAD$", re.M)
_HINTS = {
    "unreachable": "check the URL and that this machine can reach it "
    "(git ls-remote <url> shows what git sees; credentials come from git's own configuration)",
    "ref": "check the branch, tag or commit after '#' (git ls-remote <url> lists them)",
    "subdir": "check the directory after ':' in the URL's fragment",
}


class Checkout(Struct, frozen=True):
    path: Path  # the tree a build reads (in the cache: never written to)
    commit: str


class GitFailure(Exception):
    """A git command failed: its last line of stderr (credentials masked)."""


def checkout(
    ref: GitRef, cache_dir: Path, tmp: Path, subject: str, cancel: threading.Event | None = None
) -> Checkout:
    """The tree ``ref`` names (see the module doc); BuildError naming ``subject`` and the
    URL, with a hint, when the remote, the ref or the subdir is not there."""
    url = ref.fetch_url
    where = f"{subject}: {redact(url)}"
    try:
        commit = resolve(ref, cancel)
    except GitFailure as err:
        raise BuildError(f"{where}: {err}", hint=_HINTS["unreachable"]) from None
    except LookupError as err:
        raise BuildError(f"{where}: {err}", hint=_HINTS["ref"]) from None
    target = cache_dir / _cache_name(ref, commit)
    if target.is_dir():
        return Checkout(target, commit)
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="git-", dir=tmp))
    try:
        tree = _make_tree(ref, commit, work, cancel, where)
        try:
            os.rename(tree, target)
        except OSError:
            if not target.is_dir():  # another build published it meanwhile: use that one
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Checkout(target, commit)


def _cache_name(ref: GitRef, commit: str) -> str:
    keep = bool(ref.keep_git_dir) and not ref.clean_subdir
    mtime = ref.mtime == "commit"
    ident = f"{commit}\0{ref.clean_subdir}\0{keep and ref.ref}\0{keep}\0{ref.submodules}\0{mtime}"
    return hashlib.sha256(ident.encode()).hexdigest()[:40]


# -- resolving -----------------------------------------------------------------------------------
def resolve(ref: GitRef, cancel: threading.Event | None = None) -> str:
    """The commit ``ref`` names now (``git ls-remote``); LookupError when the remote has no
    such ref, GitFailure when it cannot be asked."""
    if ref.is_commit:
        shas = [ref.ref]
    else:
        name = ref.ref or _default_branch(ref.fetch_url, cancel)
        found = _run(["ls-remote", "--", ref.fetch_url, name, name + "^{}"], None, cancel)
        shas = _pick(name, found)
    if ref.checksum and not any(sha.startswith(ref.checksum) for sha in shas):
        raise LookupError(f"expected checksum to match {ref.checksum}, got {' or '.join(shas)}")
    return shas[-1]


def _default_branch(url: str, cancel: threading.Event | None) -> str:
    found = _SYMREF.search(_run(["ls-remote", "--symref", "--", url, "HEAD"], None, cancel))
    if found is None:
        raise LookupError("could not find the repository's default branch")
    return found.group(1)


def _pick(name: str, listing: str) -> list[str]:
    """BuildKit's choice among ls-remote's lines: an exact ``refs/...`` name, else the branch,
    else the tag; an annotated tag as [its object, the commit it points to]."""
    shas = {}
    for line in listing.splitlines():
        sha, _, refname = line.partition("\t")
        shas[refname] = sha
    tag = "refs/tags/" + name.removeprefix("refs/tags/")
    candidates = [
        "refs/heads/" + name.removeprefix("refs/heads/"),
        "refs/" + name.removeprefix("refs/"),
        tag,
    ]
    for candidate in candidates:
        if candidate in shas:
            peeled = shas.get(candidate + "^{}")
            return [shas[candidate], peeled] if peeled else [shas[candidate]]
    raise LookupError(f"repository does not contain ref {name}")


# -- fetching ------------------------------------------------------------------------------------
def _make_tree(
    ref: GitRef, commit: str, work: Path, cancel: threading.Event | None, where: str
) -> Path:
    repo = work / "repo"
    url = ref.fetch_url
    try:
        _run(["init", "-q", str(repo)], None, cancel)
        _run(["remote", "add", "origin", url], repo, cancel)
        try:
            _run(["fetch", "-q", "--depth=1", "--no-tags", "--", "origin", commit], repo, cancel)
        except GitFailure:  # an old server that refuses a fetch by SHA: fetch everything
            everything = ["fetch", "-q", "--tags", "--", "origin", "+refs/heads/*:refs/remotes/o/*"]
            _run(everything, repo, cancel)
        _run(["-c", "advice.detachedHead=false", "checkout", "-q", commit], repo, cancel)
        if (repo / ".gitmodules").exists() and ref.submodules is not False:
            _run(["submodule", "update", "-q", "--init", "--recursive", "--depth=1"], repo, cancel)
    except GitFailure as err:
        hint = _HINTS["ref" if ref.is_commit else "unreachable"]
        raise BuildError(f"{where}: {err}", hint=hint) from None
    when = None
    if ref.mtime == "commit":
        when = int(_run(["log", "-1", "--format=%ct", commit], repo, cancel).strip())
    subdir = ref.clean_subdir
    if ref.keep_git_dir and not subdir:
        _tidy_git_dir(repo, url, cancel)
    else:
        shutil.rmtree(repo / ".git")
    tree = repo
    if subdir:
        tree = _subdir(repo, subdir, where)
    _normalize(tree, when)
    return tree


def _tidy_git_dir(repo: Path, url: str, cancel: threading.Event | None) -> None:
    """A kept ``.git`` names the remote without credentials and holds no fetch leftovers."""
    _run(["remote", "set-url", "origin", redact(url)], repo, cancel)
    _run(["reflog", "expire", "--all", "--expire=now"], repo, cancel)
    (repo / ".git" / "FETCH_HEAD").unlink(missing_ok=True)


def _subdir(repo: Path, subdir: str, where: str) -> Path:
    """The subdir's directory: every part a real directory (no symlink), as BuildKit's
    validateDirsOnly."""
    current = repo
    for part in subdir.split("/"):
        current = current / part
        st = os.lstat(current) if os.path.lexists(current) else None
        if st is None or not stat.S_ISDIR(st.st_mode):
            raise BuildError(
                f"{where}: subdir {subdir!r} is not a directory of the repository",
                hint=_HINTS["subdir"],
            )
    return current


def _normalize(tree: Path, when: int | None) -> None:
    """Modes as BuildKit's checkout gives them: files 0644/0755, directories 0755, root's;
    with ``when`` (``?mtime=commit``) every entry's mtime, directories last."""
    os.chmod(tree, 0o755)
    for top, dirs, files in os.walk(tree, topdown=False):
        for name in files + dirs:
            path = os.path.join(top, name)
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                os.chmod(path, 0o755)
            elif stat.S_ISREG(st.st_mode):
                os.chmod(path, 0o755 if st.st_mode & 0o111 else 0o644)
            if st.st_uid or st.st_gid:
                os.lchown(path, 0, 0)
            if when is not None:
                os.utime(path, (when, when), follow_symlinks=False)
    if when is not None:
        os.utime(tree, (when, when))


def _env() -> dict[str, str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    if "GIT_SSH_COMMAND" not in env and "GIT_SSH" not in env:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
    return env


def _run(args: list[str], cwd: Path | None, cancel: threading.Event | None) -> str:
    """git's stdout; GitFailure with its last stderr line; the process is killed and reaped
    when the build is cancelled (Ctrl-C, another service's failure) or takes too long."""
    timeout = LS_REMOTE_TIMEOUT if args[0] == "ls-remote" else FETCH_TIMEOUT
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except FileNotFoundError:
        raise GitFailure("git is not installed (apt-get install git)") from None
    waited = 0.0
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                waited += 0.2
                if waited > timeout:
                    raise GitFailure(f"git {args[0]} took longer than {timeout:.0f}s") from None
                if cancel is not None and cancel.is_set():
                    from compose.build.request import Cancelled

                    raise Cancelled() from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise GitFailure(_cause(err) or f"git {args[0]} exited with {proc.returncode}")
    return out


def _cause(stderr: str) -> str:
    """git's error as one line (ssh's own reason first; git's boilerplate and hints left out),
    credentials masked."""
    lines = []
    for line in stderr.splitlines():
        line = line.strip().removeprefix("fatal: ").removeprefix("error: ")
        if line and not line.startswith(_NOISE):
            lines.append(line)
    return redact("; ".join(lines)[:300])


_NOISE = (
    "hint:",
    "warning:",
    "Please make sure you have the correct access rights",
    "and the repository exists",
)
