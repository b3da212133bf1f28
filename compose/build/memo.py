"""Remembered builds: a finished build's image kept with what decided it, so building it again
with nothing changed costs a stat walk and a few small reads (no stack model, no builder).

The executor writes one entry per request once the image is tagged (``Watch``):

- ``key``: ``request_key(request)``: every field of the request, and the code that builds
  (``compose/build`` and ``compose/images``, by stat);
- ``files``: the stat of the Dockerfile and of both ignore-file candidates, taken before the
  builder read them; ``walk``: a digest of the stat (inode, mode, size, mtime, ctime) of every
  entry of the context, taken before any COPY read it (directories the ``.dockerignore``
  excludes whole are skipped: ``pruned``);
- ``images``: the store's tag entries of every image the build used (a newer pull is a miss);
- ``digest``, ``tags``, ``blobs``, ``layers``: the image and what must still be in the store;
  ``vertices``: the progress lines to replay (steps as CACHED);
- ``git``: for a git context, its URL and the commit built (the context walked is that
  commit's checkout): ``check`` asks ``git ls-remote`` again, as BuildKit does on every build,
  and a ref that moved is a miss.

``check`` asks all of it again: any difference, a tag that points elsewhere or a missing layer
is a miss, and the full build runs (from its cache). A walk that saw an entry changed within
``RACY_NS`` is not kept (a write in the same clock tick would go unnoticed, as git says).
Not remembered: ``--no-cache``, ``--pull``, ``no_cache_filter``, additional contexts, ADD of a
URL or git repository (remote content: BuildKit fetches it again). Entries live in
``<store>/buildcache/results/``: pruning the build cache drops them.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

try:  # the builtin module: hashlib's import (its OpenSSL binding) costs ~5 ms
    from _blake2 import blake2b
except ImportError:  # an interpreter built without it
    from hashlib import blake2b

VERSION = "pycompose.buildmemo.v1"
RACY_NS = 100_000_000
_PACKAGE = Path(__file__).resolve().parent
_CODE = (_PACKAGE, _PACKAGE.parent / "images")
Stamp = list[int] | None


def request_key(request: Any) -> str:
    """A digest of every field of a ``BuildRequest`` and of the building code's files."""
    fields = []
    for name in sorted(request.__struct_fields__):
        value = getattr(request, name)
        if isinstance(value, Mapping):
            value = sorted(value.items())
        fields.append((name, value))
    digest = blake2b(f"{VERSION} {_code_stamp()}".encode(), digest_size=32)
    digest.update(repr(fields).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _code_stamp() -> str:
    parts = []
    for folder in _CODE:
        with os.scandir(folder) as it:
            for entry in sorted(it, key=lambda e: e.name):
                if entry.name.endswith(".py"):
                    st = entry.stat()
                    parts.append(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}")
    return ",".join(parts)


def eligible(request: Any) -> bool:
    """Can this request's result be remembered (see the module doc; the executor also checks
    its plan for remote ADD sources)?"""
    return not (request.no_cache or request.pull or request.no_cache_filter or request.contexts)


def remote(source: str) -> bool:
    """An ADD source whose content is fetched (a URL or a git repository)."""
    return "://" in source or source.startswith("git@")


def watched_files(context: Path, dockerfile: Path | None) -> list[str]:
    out = [str(context / ".dockerignore")]
    if dockerfile is not None:
        out[:0] = [str(dockerfile), str(dockerfile.with_name(dockerfile.name + ".dockerignore"))]
    return out


def stat_files(paths: Iterable[str]) -> list[Stamp]:
    out: list[Stamp] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out.append(None)
            continue
        out.append([st.st_dev, st.st_ino, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns])
    return out


def walk(root: str, pruned: Iterable[str] = (), prune: Any = None) -> tuple[str, bool, list[str]]:
    """(digest of the stat of every entry below ``root``, racy?, directories skipped):
    ``pruned`` names directories to skip; ``prune(rel)`` decides for others (None: none)."""
    skip = set(pruned)
    found: list[str] = []
    lines: list[str] = []
    newest = 0
    started = time.time_ns()
    todo = [""]
    while todo:
        rel = todo.pop()
        try:
            with os.scandir(os.path.join(root, rel) if rel else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            lines.append(f"{rel}\0error {err.errno}")
            continue
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                if child in skip or (prune is not None and prune(child)):
                    found.append(child)
                    lines.append(f"{child}\0pruned")
                    continue
                todo.append(child)
            newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
            lines.append(
                f"{child}\0{st.st_ino}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}"
            )
    try:
        st = os.stat(root)
        lines.append(f"\0{st.st_dev}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_ctime_ns}")
        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
    except OSError:
        lines.append("\0missing")
    digest = blake2b("\n".join(lines).encode("utf-8", "surrogateescape"), digest_size=32)
    return digest.hexdigest(), started - newest <= RACY_NS, found


def _path(store_root: Path, key: str) -> Path:
    return store_root / "buildcache" / "results" / f"{key}.json"


def write(store_root: Path, key: str, entry: dict[str, Any]) -> None:
    path = _path(store_root, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps({"version": VERSION, **entry}, separators=(",", ":")))
        os.replace(tmp, path)
    except OSError:
        pass


def forget(store_root: Path, key: str) -> None:
    try:
        _path(store_root, key).unlink()
    except OSError:
        pass


def check(store_root: Path, key: str) -> list[tuple[str, bool]] | None:
    """The vertices to replay when the remembered build of ``key`` is still what a build
    would make; None when anything differs (then build)."""
    try:
        entry = json.loads(_path(store_root, key).read_text())
        if entry.get("version") != VERSION or entry.get("code") != _code_stamp():
            return None
        files = entry["files"]
        if stat_files(files) != entry["stamps"]:
            return None
        digest, racy, _ = walk(entry["context"], entry["pruned"])
        if racy or digest != entry["walk"]:
            return None
        tags = json.loads((store_root / "tags.json").read_text())
        if any(tags.get(ref) != value for ref, value in entry["images"].items()):
            return None
        if any(tags.get(tag) != entry["digest"] for tag in entry["tags"]):
            return None
        blobs = store_root / "blobs" / "sha256"
        layers = store_root / "layers"
        if not all((blobs / hex_).is_file() for hex_ in entry["blobs"]):
            return None
        if not all((layers / hex_).is_dir() for hex_ in entry["layers"]):
            return None
        if entry.get("git") and not _same_commit(*entry["git"]):
            return None
        return [(str(name), bool(step)) for name, step in entry["vertices"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _same_commit(url: str, commit: str) -> bool:
    """Does the git context's ref still name ``commit`` (``git ls-remote``)?"""
    from compose.build import gitfetch, gitref

    try:
        ref = gitref.parse(url)
        return ref is not None and gitfetch.resolve(ref) == commit
    except Exception:  # unreachable, malformed ...: build, and let the build say why
        return False


class Watch:
    """What one build's memo entry needs, taken before the builder reads anything."""

    def __init__(self, context: Path, dockerfile: Path | None) -> None:
        self.context = str(context)
        self.files = watched_files(context, dockerfile)
        self.stamps = stat_files(self.files)
        self.walk = ""
        self.pruned: list[str] = []
        self.racy = True

    def walk_context(self, prune: Any) -> None:
        self.walk, self.racy, self.pruned = walk(self.context, (), prune)

    def entry(
        self,
        images: dict[str, str | None],
        digest: str,
        tags: list[str],
        blobs: list[str],
        layers: list[str],
        vertices: list[tuple[str, bool]],
    ) -> dict[str, Any] | None:
        """The entry to write (None when something changed while building: not kept)."""
        if self.racy or not self.walk or stat_files(self.files) != self.stamps:
            return None
        return {
            "code": _code_stamp(),
            "context": self.context,
            "files": self.files,
            "stamps": self.stamps,
            "walk": self.walk,
            "pruned": self.pruned,
            "images": images,
            "digest": digest,
            "tags": tags,
            "blobs": [b.removeprefix("sha256:") for b in blobs],
            "layers": [la.removeprefix("sha256:") for la in layers],
            "vertices": vertices,
        }
