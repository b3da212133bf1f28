"""``extends``: a service inherits another one, from the same file or from ``file:``.

The base is resolved first (recursively), its relative paths are made absolute against the
directory of the file that defines it, then the extending service is merged on top with the
``-f`` merge rules. Cycles are errors that print the chain.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compose.errors import UserError
from compose.stackfile import fs
from compose.stackfile.merge import delete_paths, merge_values
from compose.stackfile.paths import abs_path, resolve_service_paths, short_path
from compose.stackfile.types import KeyPath, SourceMap, did_you_mean


@dataclass
class LoadedFile:
    """A file's canonical tree plus what extends needs to merge and locate."""

    path: str  # absolute, or the display name for the main project
    tree: dict[str, Any]
    marks: SourceMap
    base_dir: str
    resets: set[KeyPath] = field(default_factory=set)
    overrides: set[KeyPath] = field(default_factory=set)
    positional: set[KeyPath] = field(default_factory=set)


FileLoader = Callable[[str], LoadedFile]


class ExtendsResolver:
    def __init__(
        self,
        load_file: FileLoader,
        home: str,
        main_marks: SourceMap,
        relative_to: str | None = None,
    ) -> None:
        """``relative_to``: with --no-path-resolution, a base from another directory gets its
        paths rebased relative to this directory (compose-go) instead of made absolute."""
        self.load_file = load_file
        self.home = home
        self.main_marks = main_marks
        self.relative_to = relative_to
        self.done: dict[tuple[str, str], dict[str, Any]] = {}

    def resolve_all(self, main: LoadedFile) -> None:
        services = main.tree.get("services")
        if not isinstance(services, dict):
            return
        for name in list(services):
            if isinstance(services[name], dict):
                services[name] = self.resolve(main, name, ())

    def resolve(
        self, ctx: LoadedFile, name: str, chain: tuple[tuple[str, str], ...]
    ) -> dict[str, Any]:
        key = (ctx.path, name)
        if key in self.done:
            return self.done[key]
        svc: dict[str, Any] = ctx.tree["services"][name]
        ext = svc.get("extends")
        if ext is None:
            return svc
        if key in chain:
            raise self._cycle(ctx, name, chain)
        base_ctx, base_name = self._base_of(ctx, name, ext)
        base = copy.deepcopy(self.resolve(base_ctx, base_name, (*chain, key)))
        base.pop("extends", None)
        if base_ctx.base_dir != ctx.base_dir:
            folder = base_ctx.base_dir
            if self.relative_to is not None:
                folder = os.path.relpath(folder, self.relative_to)
            resolve_service_paths(base, folder, self.home)
        own = {k: v for k, v in svc.items() if k != "extends"}
        path = ("services", name)
        merged: dict[str, Any] = merge_values(
            base, own, path, frozenset(ctx.overrides), frozenset(ctx.positional)
        )
        delete_paths({"services": {name: merged}}, [p for p in ctx.resets if p[:2] == path])
        self._inherit_marks(ctx, base_ctx, name, base_name)
        self.done[key] = merged
        return merged

    def _base_of(self, ctx: LoadedFile, name: str, ext: Any) -> tuple[LoadedFile, str]:
        ext = {"service": ext} if isinstance(ext, str) else ext
        where = self._where(ctx, ("services", name, "extends"))
        if not isinstance(ext, dict) or not isinstance(ext.get("service"), str):
            raise UserError(f"{where}services.{name}.extends: must name a service")
        for key in ext.keys() - {"service", "file"}:
            hint = did_you_mean(str(key), ("service", "file"))
            raise UserError(f"{where}services.{name}.extends.{key}: unknown key{hint}")
        base_ctx = ctx
        if isinstance(ext.get("file"), str):
            path = abs_path(ctx.base_dir, ext["file"], self.home)
            if not fs.is_file(path):
                missing = short_path(path)
                raise UserError(f"{where}services.{name}.extends: file not found: {missing}")
            base_ctx = self.load_file(path)
        services = base_ctx.tree.get("services")
        if not isinstance(services, dict) or not isinstance(services.get(ext["service"]), dict):
            in_file = f" in {short_path(base_ctx.path)}" if base_ctx is not ctx else ""
            raise UserError(
                f'{where}services.{name}.extends: service "{ext["service"]}" not found{in_file}'
            )
        return base_ctx, ext["service"]

    def _cycle(self, ctx: LoadedFile, name: str, chain: tuple[tuple[str, str], ...]) -> UserError:
        start = chain.index((ctx.path, name))
        names = [n for _, n in chain[start:]] + [name]
        where = self._where(ctx, ("services", name, "extends"))
        return UserError(f"{where}extends cycle: {' → '.join(names)}")

    def _where(self, ctx: LoadedFile, path: KeyPath) -> str:
        mark = ctx.marks.locate(path)
        return f"{mark}: " if mark else ""

    def _inherit_marks(
        self, ctx: LoadedFile, base_ctx: LoadedFile, name: str, base_name: str
    ) -> None:
        if ctx.marks is self.main_marks:
            rebased = base_ctx.marks.rebase(("services", base_name), ("services", name))
            self.main_marks.update(rebased)
