"""Every question the load phase asks outside its options: files, the home directory, stdin.

The loader is a pure function of its ``LoadOptions`` and of these answers. ``recording()``
notes each question and its answer while a load runs; ``unchanged(probes)`` asks them all again.
When every answer is the same, loading again would build the same tree, so
``compose.model.memo`` can skip loading (and the YAML parser's import) altogether. A file's
answer is a hash of its bytes; stdin cannot be asked again, so a load that read it is marked
``replayable = False``. Nothing in ``compose.stackfile`` may touch the filesystem but through
this module (a unit test checks the sources).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # the builtin module: hashlib's import (its OpenSSL binding) costs ~5 ms
    from _blake2 import blake2b
except ImportError:  # an interpreter built without it
    from hashlib import blake2b

Probe = tuple[str, str, Any]  # (question, path, answer)


@dataclass
class Recording:
    probes: list[Probe] = field(default_factory=list)
    replayable: bool = True


_ACTIVE: contextvars.ContextVar[Recording | None] = contextvars.ContextVar("fs_recording")


@contextlib.contextmanager
def recording() -> Iterator[Recording]:
    """Note every question asked while the block runs (nested loads included)."""
    notes = Recording()
    token = _ACTIVE.set(notes)
    try:
        yield notes
    finally:
        _ACTIVE.reset(token)


def _note(question: str, path: str, answer: Any) -> None:
    notes = _ACTIVE.get(None)
    if notes is not None:
        notes.probes.append((question, path, answer))


def is_file(path: str | Path) -> bool:
    answer = os.path.isfile(path)
    _note("is_file", str(path), answer)
    return answer


def is_dir(path: str | Path) -> bool:
    answer = os.path.isdir(path)
    _note("is_dir", str(path), answer)
    return answer


def exists(path: str | Path) -> bool:
    answer = os.path.exists(path)
    _note("exists", str(path), answer)
    return answer


def read_bytes(path: str | Path, most: int | None = None) -> bytes:
    """The file's bytes; with ``most``, at most ``most + 1`` of them (the caller refuses a file
    over its bound without reading it all: ``/dev/zero`` never ends)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read() if most is None else fh.read(most + 1)
    except OSError as exc:
        _note("read", str(path), f"error {exc.errno}")
        raise
    _note("read", str(path), _digest(data))
    return data


def expanduser(path: str | Path) -> Path:
    """``Path(path).expanduser()``; a leading ``~`` asks for the home directory."""
    if str(path).startswith("~"):
        _note("home", "", str(Path.home()))
    return Path(path).expanduser()


def home() -> str:
    answer = str(Path.home())
    _note("home", "", answer)
    return answer


def read_stdin(most: int | None = None) -> str:
    notes = _ACTIVE.get(None)
    if notes is not None:
        notes.replayable = False
    return sys.stdin.read() if most is None else sys.stdin.read(most + 1)


def unchanged(probes: list[Probe]) -> bool:
    """Whether every question gets the answer it got when ``probes`` were recorded."""
    for question, path, answer in probes:
        if _ask(question, path) != answer:
            return False
    return True


def _ask(question: str, path: str) -> Any:
    if question == "read":
        try:
            return _digest(Path(path).read_bytes())
        except OSError as exc:
            return f"error {exc.errno}"
    if question == "home":
        return str(Path.home())
    check = {"is_file": os.path.isfile, "is_dir": os.path.isdir, "exists": os.path.exists}
    return check[question](path)


def _digest(data: bytes) -> str:
    return blake2b(data, digest_size=32).hexdigest()
