"""COPY, ADD and WORKDIR steps: their inputs (for the cache key) and their layers.

``select_sources`` resolves a COPY/ADD's sources once — wildcards, ``--parents``, heredoc files,
URLs (downloaded, ``--checksum`` verified), git repositories (their checkout) — into
``Selection``s; their digest is the content part of the cache key, and on a miss the same
selections are copied. Local ADD sources that are tar archives (gzip, bzip2, xz or plain,
sniffed by content) are extracted instead, refusing members that would land outside the
destination.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from compose.build import gitref, gopath
from compose.build.context import ContextError, ContextView, Entry, FileHashes, content_digest
from compose.build.copy import (
    CopyError,
    LayerWriter,
    Ownership,
    Reuse,
    copy_source,
    parse_chown,
)
from compose.build.ignore import PatternError, PatternMatcher
from compose.build.plan import CopyStep, WorkdirStep
from compose.build.rootview import RootView
from compose.errors import BuildError

if TYPE_CHECKING:
    import tarfile

DOWNLOAD_TIMEOUT = 60.0


class Selection(Struct):
    """One matched source: its entries (root first) and how it is named at the destination."""

    name: str  # basename used when it lands inside an existing directory
    entries: list[Entry]
    prefix: str = ""  # --parents: the path kept below the destination
    unpack: bool = False  # ADD: an archive to extract


class SourceFS:
    """Where a COPY reads: the build context, or the root filesystem of a stage/image."""

    def __init__(
        self, context: ContextView | None = None, root: RootView | None = None, ident: str = ""
    ) -> None:
        self.context, self.root, self.ident = context, root, ident

    @property
    def owners(self) -> bool:
        return self.context is None  # stages and images have real owners

    def matches(self, src: str) -> list[str]:
        if self.context is not None:
            return self.context.matches(src)
        return _root_matches(self.root, src)

    def tree(self, rel: str, follow: bool = True) -> list[Entry]:
        if self.context is not None:
            return list(self.context.tree(rel, follow))
        assert self.root is not None
        try:
            return list(self.root.tree("/" + rel, follow))
        except FileNotFoundError:
            raise ContextError(f'"{rel}": not found in {self.ident}') from None

    def missing(self, rel: str) -> str:
        if self.context is not None:
            return self.context.missing(rel)
        return f'"{rel}": not found in {self.ident}'


def _root_matches(root: RootView | None, src: str) -> list[str]:
    assert root is not None
    cleaned = gopath.clean("/" + src).lstrip("/")
    parts = cleaned.split("/") if cleaned else []
    if not any(gopath.has_wildcards(p) for p in parts):
        return [cleaned]
    found = [""]
    for part in parts:
        step: list[str] = []
        for base in found:
            if not gopath.has_wildcards(part):
                step.append(f"{base}/{part}".lstrip("/"))
                continue
            for name, _host, _st in root.children("/" + base):
                if gopath.match(part, name):
                    step.append(f"{base}/{name}".lstrip("/"))
        found = step
    return sorted(p for p in found if root.lstat("/" + p) is not None)


# -- selecting ---------------------------------------------------------------------------------
def select_sources(
    step: CopyStep,
    fs: SourceFS,
    scratch: Path,
    subject: str,
    git: Callable[[str], Path] | None = None,
) -> list[Selection]:
    """Every source of the step, in order; BuildError naming the step for a missing one.
    ``git(src)`` gives the checkout of an ADD's git source (its contents are copied)."""
    out: list[Selection] = []
    try:
        for src in step.sources:
            if git is not None and step.is_add and gitref.is_git(src, context=False):
                out.append(Selection("", list(ContextView(git(src)).tree(""))))
            elif src.startswith(("http://", "https://")):
                out.append(_download(src, step, scratch))
            elif step.parents:
                out += _parents(src, fs)
            else:
                out += _plain(src, fs, step)
        out += _inline(step, scratch)
    except (ContextError, OSError) as err:
        raise BuildError(f"{subject}: {err}") from None
    return out


def _plain(src: str, fs: SourceFS, step: CopyStep) -> list[Selection]:
    found = fs.matches(src)
    wildcard = gopath.has_wildcards(gopath.clean("/" + src))
    out = []
    for rel in found:
        try:
            entries = fs.tree(rel)
        except ContextError:
            if wildcard:
                continue
            raise
        name = posixpath.basename(rel) if rel else ""
        unpack = step.is_add and step.unpack is not False and not entries[0].is_dir
        out.append(Selection(name, entries, unpack=unpack and _is_archive(entries[0])))
    return out


def _parents(src: str, fs: SourceFS) -> list[Selection]:
    """``--parents``: each match keeps its path (below the ``/./`` pivot, if any)."""
    pivot, sep, pattern = src.partition("/./")
    if not sep:
        pivot, pattern = "", src
    base = gopath.clean("/" + pivot).lstrip("/")
    out = []
    for rel in fs.matches(posixpath.join(base, pattern) if base else pattern):
        kept = rel[len(base) :].lstrip("/") if base else rel
        entries = fs.tree(rel, follow=False)
        out.append(Selection(posixpath.basename(rel), entries, prefix=posixpath.dirname(kept)))
    return out


def _inline(step: CopyStep, scratch: Path) -> list[Selection]:
    out: list[Selection] = []
    for doc in step.inline:
        path = scratch / f"inline-{len(out)}"
        path.mkdir(parents=True, exist_ok=True)
        target = path / posixpath.basename(doc.path)
        target.write_text(doc.data)
        os.chmod(target, doc.mode)
        out.append(Selection(target.name, [Entry("", str(target), os.lstat(target))]))
    return out


def _download(url: str, step: CopyStep, scratch: Path) -> Selection:
    import email.utils
    import urllib.parse

    import httpx

    name = posixpath.basename(urllib.parse.urlparse(url).path) or "__unnamed__"
    if name in (".", "/"):
        name = "__unnamed__"
    target_dir = scratch / f"url-{hashlib.sha256(url.encode()).hexdigest()[:12]}"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / name
    sha = hashlib.sha256()
    try:
        with httpx.stream("GET", url, timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as resp:
            resp.raise_for_status()
            modified = resp.headers.get("last-modified")
            with open(target, "wb") as fh:
                for chunk in resp.iter_bytes():
                    sha.update(chunk)
                    fh.write(chunk)
    except httpx.HTTPError as err:
        raise OSError(f"ADD {url}: {err}") from None
    digest = "sha256:" + sha.hexdigest()
    if step.checksum and digest != step.checksum:
        raise OSError(f"ADD {url}: digest mismatch: expected {step.checksum}, got {digest}")
    os.chmod(target, 0o600)
    if modified:
        with contextlib.suppress(TypeError, ValueError):
            when = email.utils.parsedate_to_datetime(modified).timestamp()
            os.utime(target, (when, when))
    unpack = bool(step.unpack) and _is_archive(Entry("", str(target), os.lstat(target)))
    return Selection(name, [Entry("", str(target), os.lstat(target))], unpack=unpack)


def selection_digest(selections: list[Selection], fs: SourceFS, hashes: FileHashes) -> str:
    """The content digest of what the step copies (the COPY/ADD part of its cache key)."""
    sha = hashlib.sha256()
    for sel in selections:
        named = [(f"{sel.prefix}/{sel.name}/{e.rel}", e) for e in sel.entries]
        sha.update(f"{sel.name}\0{sel.prefix}\0{int(sel.unpack)}\n".encode())
        sha.update(content_digest(named, hashes, fs.owners).encode())
    return sha.hexdigest()


# -- archives ----------------------------------------------------------------------------------
def _open_archive(path: str) -> Any:
    """The file, decompressed by its magic (gzip, bzip2, xz) when it is compressed."""
    with open(path, "rb") as fh:
        head = fh.read(6)
    if head.startswith(b"\x1f\x8b"):
        import gzip

        return gzip.open(path, "rb")
    if head.startswith(b"BZh"):
        import bz2

        return bz2.open(path, "rb")
    if head.startswith(b"\xfd7zXZ\x00"):
        import lzma

        return lzma.open(path, "rb")
    return open(path, "rb")


def _is_archive(entry: Entry) -> bool:
    """A tar (maybe compressed) by content, like BuildKit's isArchivePath."""
    import lzma
    import tarfile

    if not stat.S_ISREG(entry.st.st_mode) or entry.st.st_size == 0:
        return False
    try:
        with _open_archive(entry.path) as fh, tarfile.open(fileobj=fh, mode="r|") as tar:
            return tar.next() is not None
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, ValueError):
        return False


def _extract(entry: Entry, writer: LayerWriter, dest: str) -> None:
    """Unpack an archive source into ``dest`` (a directory), refusing path escapes."""
    import tarfile

    target = writer.resolve(dest)
    writer.ensure_dir(target)
    with _open_archive(entry.path) as fh, tarfile.open(fileobj=fh, mode="r|") as tar:
        for member in tar:
            _extract_member(tar, member, writer, target)


def _extract_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, writer: LayerWriter, target: str
) -> None:
    name = member.name
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts:
        raise CopyError(f"archive member {name!r} would be written outside {target}")
    if not parts:
        return
    path = posixpath.join(target, *parts)
    if member.islnk():
        link_parts = [p for p in member.linkname.split("/") if p not in ("", ".")]
        if member.linkname.startswith("/") or ".." in link_parts:
            raise CopyError(f"archive hard link {name!r} points outside {target}")
    writer.ensure_dir(posixpath.dirname(path))
    host = writer.host(path)
    if os.path.lexists(host) and not (member.isdir() and os.path.isdir(host)):
        if os.path.isdir(host) and not os.path.islink(host):
            raise CopyError(f"archive member {name!r} replaces a directory")
        os.unlink(host)
    _write_member(tar, member, host, writer, target)


def _inside(writer: LayerWriter, path: str) -> str:
    """The layer's host path of ``path``, refusing a walk through any symlink (a hard link
    must never reach a file outside the layer)."""
    current = str(writer.out)
    for part in [p for p in path.split("/") if p]:
        current = os.path.join(current, part)
        if os.path.islink(current):
            raise CopyError(f"archive hard link target {path!r} goes through a symlink")
    if not os.path.isfile(current):
        raise CopyError(f"archive hard link target {path!r} is not a file of the archive")
    return current


def _write_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, host: str, writer: LayerWriter, target: str
) -> None:
    if member.isdir():
        if not os.path.isdir(host):
            os.mkdir(host)
    elif member.isfile():
        src = tar.extractfile(member)
        assert src is not None
        with open(host, "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
    elif member.issym():
        os.symlink(member.linkname, host)
    elif member.islnk():
        os.link(_inside(writer, posixpath.join(target, member.linkname)), host)
        return
    elif member.ischr() or member.isblk() or member.isfifo():
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK if member.isblk() else stat.S_IFIFO
        os.mknod(host, kind | (member.mode & 0o7777), os.makedev(member.devmajor, member.devminor))
    else:
        return
    uid = writer.owner.uid if writer.owner.uid is not None else member.uid
    gid = writer.owner.gid if writer.owner.gid is not None else member.gid
    os.lchown(host, uid, gid)
    if not member.issym():
        os.chmod(host, member.mode & 0o7777)
    os.utime(host, (member.mtime, member.mtime), follow_symlinks=False)
    if member.isdir():
        ns = int(member.mtime * 1e9)
        writer.dir_times[host] = (ns, ns)


# -- layers ------------------------------------------------------------------------------------
def copy_layer(
    step: CopyStep,
    selections: list[Selection],
    lower: RootView | None,
    out: Path,
    subject: str,
    reuse: Reuse | None = None,
) -> None:
    """Write the step's layer into ``out`` (an empty directory)."""
    try:
        excludes = PatternMatcher.from_lines(list(step.excludes)) if step.excludes else None
    except PatternError as err:
        raise BuildError(f"{subject}: --exclude: {err}") from None
    try:
        chown = parse_chown(step.chown, lower)
        uid, gid = chown if chown else (None, None)
        owner = Ownership(uid, gid, context=step.origin.kind == "context")
        mode, spec = _chmod(step.chmod)
        writer = LayerWriter(out, lower, owner, mode, spec, reuse=reuse)
        _copy_all(step, selections, writer, excludes)
        writer.finish()
    except (CopyError, OSError) as err:
        raise BuildError(f"{subject}: {err}") from None


def _copy_all(
    step: CopyStep,
    selections: list[Selection],
    writer: LayerWriter,
    excludes: PatternMatcher | None,
) -> None:
    for sel in selections:
        if sel.unpack:
            _extract(sel.entries[0], writer, step.dest)
            continue
        dest = step.dest
        if step.parents:
            dest = posixpath.join(step.dest, sel.prefix, sel.name)
        elif len(selections) > 1 and not dest.endswith("/"):
            dest = dest + "/"  # several sources go into a directory
        copy_source(writer, sel.entries, dest, sel.name, excludes)


def _chmod(text: str) -> tuple[int | None, str]:
    if not text:
        return None, ""
    try:
        return int(text, 8), ""
    except ValueError:
        return None, text


def workdir_layer(step: WorkdirStep, lower: RootView, out: Path) -> None:
    """``mkdir -p`` of the path, created directories owned by the current USER."""
    from compose.runtime.users import UserLookupError, resolve_user

    uid = gid = 0
    if step.user:
        try:
            user = resolve_user(
                step.user, lower.read_text("/etc/passwd"), lower.read_text("/etc/group"), ()
            )
        except UserLookupError as err:
            raise BuildError(f"WORKDIR {step.path}: {err}") from None
        uid, gid = user.uid, user.gid
    writer = LayerWriter(out, lower, Ownership(uid, gid, context=False))
    writer.ensure_dir(lower.resolve(step.path), created_mode=0o755)
    writer.finish()


@contextlib.contextmanager
def scratch_dir(tmp: Path) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="copy-", dir=tmp))
    try:
        yield path
    finally:
        import shutil

        shutil.rmtree(path, ignore_errors=True)
