"""Public value types of the load phase (re-exported by ``compose.stackfile``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KeyPath = tuple[str | int, ...]


def did_you_mean(key: str, candidates: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` for the closest candidate, or "" (unknown-key messages)."""
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


@dataclass(frozen=True, slots=True)
class Mark:
    """A place in a stack file; ``line`` and ``col`` are 1-based."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class SourceMap:
    """Key path -> Mark of the node that produced it (first file that set it wins)."""

    __slots__ = ("_marks",)

    def __init__(self, marks: dict[KeyPath, Mark] | None = None) -> None:
        self._marks: dict[KeyPath, Mark] = dict(marks or {})

    def locate(self, path: tuple[str | int, ...]) -> Mark | None:
        """Mark of ``path`` or of its deepest known ancestor; None when nothing is known."""
        path = tuple(path)
        while True:
            mark = self._marks.get(path)
            if mark is not None or not path:
                return mark
            path = path[:-1]

    def add(self, path: KeyPath, mark: Mark, *, override: bool = False) -> None:
        if override or path not in self._marks:
            self._marks[path] = mark

    def update(self, other: SourceMap, *, override: bool = False) -> None:
        for path, mark in other._marks.items():
            self.add(path, mark, override=override)

    def rebase(self, old: KeyPath, new: KeyPath) -> SourceMap:
        """Copy of the entries under ``old`` with that prefix replaced by ``new``."""
        n = len(old)
        return SourceMap({new + p[n:]: m for p, m in self._marks.items() if p[:n] == old})

    def items(self) -> list[tuple[KeyPath, Mark]]:
        return list(self._marks.items())

    def __len__(self) -> int:
        return len(self._marks)


@dataclass(frozen=True)
class LoadOptions:
    files: tuple[str, ...] = ()  # -f; "-" = stdin; empty = discovery (+COMPOSE_FILE)
    project_name: str | None = None
    project_directory: str | None = None
    env_files: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    environ: Mapping[str, str] = field(default_factory=dict)  # shell environment snapshot
    cwd: Path = Path(".")
    interpolate: bool = True
    resolve_paths: bool = True
    services: tuple[str, ...] = ()  # services named on the command line (enable their profiles)
    normalize: bool = True  # False = compose's --no-normalize (no implicit default network)
    stdin: str | None = None  # text for "-" (None: read sys.stdin)


@dataclass(frozen=True)
class LoadedStack:
    name: str  # normalized project name
    working_dir: Path
    files: tuple[Path, ...]
    environment: Mapping[str, str]  # variables used for interpolation (shell > --env-file/.env)
    # merged, interpolated, normalized; the shape `docker compose config` prints
    tree: dict[str, Any]
    source_map: SourceMap
    warnings: tuple[str, ...]
    disabled_services: frozenset[str]  # services dropped by profiles
