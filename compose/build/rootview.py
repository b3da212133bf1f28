"""The root filesystem of a stack of store layers, read without mounting anything.

Overlay rules as in the store's layer format: the topmost layer holding a name wins; a 0/0
character device hides the name below it; a directory marked opaque hides the lower layers'
directory of the same name; directories that are not opaque merge. ``resolve`` follows
symlinks with ``/`` meaning the root of this filesystem (never the host's), like BuildKit's
``RootPath``. Used for COPY destinations (does it exist, is it a directory), ``--chown`` names
(the destination's /etc/passwd and /etc/group) and ``COPY --from`` a stage or an image.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from compose.build import gopath
from compose.build.context import Entry
from compose.images.layertar import is_opaque, is_whiteout


class RootView:
    def __init__(self, layers: Sequence[Path]) -> None:
        self.layers = [str(p) for p in reversed(layers)]  # topmost first

    def _find(self, parts: list[str]) -> tuple[str, os.stat_result] | None:
        """(host path, lstat) of the topmost entry at ``parts`` (symlinks not followed)."""
        if not parts:
            return (self.layers[0], os.lstat(self.layers[0])) if self.layers else None
        for base in self._dirs(parts[:-1]):
            path = os.path.join(base, parts[-1])
            try:
                st = os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                continue
            return None if is_whiteout(st) else (path, st)
        return None

    def lstat(self, path: str) -> tuple[str, os.stat_result] | None:
        return self._find([p for p in path.split("/") if p and p != "."])

    def resolve(self, path: str, follow_last: bool = True) -> str:
        """``path`` (absolute in this root) with its symlinks followed inside the root."""

        def readlink(rel: str) -> str | None:
            found = self._find(rel.split("/"))
            if found is None or not stat.S_ISLNK(found[1].st_mode):
                return None
            return os.readlink(found[0])

        return "/" + gopath.follow_links(path, readlink, follow_last=follow_last)

    def is_dir(self, path: str) -> bool:
        found = self.lstat(self.resolve(path))
        return found is not None and stat.S_ISDIR(found[1].st_mode)

    def read_text(self, path: str) -> str:
        found = self.lstat(self.resolve(path))
        if found is None or not stat.S_ISREG(found[1].st_mode):
            return ""
        try:
            return Path(found[0]).read_text(errors="replace")
        except OSError:
            return ""

    def children(self, path: str) -> list[tuple[str, str, os.stat_result]]:
        """(name, host path, lstat) of the merged directory ``path``, by name."""
        parts = [p for p in path.split("/") if p and p != "."]
        dirs = self._dirs(parts)
        seen: dict[str, tuple[str, os.stat_result] | None] = {}
        for base in dirs:
            with os.scandir(base) as it:
                for entry in it:
                    if entry.name in seen:
                        continue
                    st = entry.stat(follow_symlinks=False)
                    seen[entry.name] = None if is_whiteout(st) else (entry.path, st)
        return sorted((n, v[0], v[1]) for n, v in seen.items() if v is not None)

    def _dirs(self, parts: list[str]) -> list[str]:
        """The host directories that make up the merged directory ``parts``, topmost first."""
        dirs = list(self.layers)
        for part in parts:
            below: list[str] = []
            for base in dirs:
                candidate = os.path.join(base, part)
                try:
                    st = os.lstat(candidate)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                if is_whiteout(st) or not stat.S_ISDIR(st.st_mode):
                    break
                below.append(candidate)
                if is_opaque(candidate):
                    break
            dirs = below
        return dirs

    def tree(self, path: str, follow: bool = True) -> Iterator[Entry]:
        """The entry at ``path`` (symlink followed) and everything below it, by name."""
        resolved = self.resolve(path, follow_last=follow)
        found = self.lstat(resolved)
        if found is None:
            raise FileNotFoundError(path)
        yield Entry("", found[0], found[1])
        if stat.S_ISDIR(found[1].st_mode):
            yield from self._walk(resolved, "")

    def _walk(self, base: str, rel: str) -> Iterator[Entry]:
        for name, host, st in self.children(f"{base}/{rel}" if rel else base):
            child = f"{rel}/{name}" if rel else name
            yield Entry(child, host, st)
            if stat.S_ISDIR(st.st_mode):
                yield from self._walk(base, child)
