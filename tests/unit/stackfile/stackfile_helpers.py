"""Shared helpers for the stackfile tests (imported by test modules in this folder)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from compose.stackfile import LoadedStack, LoadOptions, load_stack_tree


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def load(root: Path, contents: dict[str, str] | None = None, **opts: object) -> LoadedStack:
    write(root, contents or {})
    opts.setdefault("environ", {"HOME": "/home/u"})
    opts.setdefault("cwd", root)
    return load_stack_tree(LoadOptions(**opts))  # type: ignore[arg-type]
