"""Remembered results of validating a loaded tree, so an unchanged stack skips pydantic.

Importing pydantic and building the model's validators costs ~250 ms, three times all that
``docker compose config`` takes. What a command derives from the validated ``Stack`` (the text
``config`` prints, the model's warnings) is a pure function of the model's input: the loader's
tree plus the stack's name, files, working dir, environment and disabled services. ``remember``
keys the result by a hash of that input, of the caller's own parameters and of the code that
computes it (the model package, ``units`` and the caller's module), and keeps it in
``paths.cache_dir()/model``. Nothing but a successful result is kept: a stack with an error
is validated (and its error located) on every run.

The interpolation environment is left out of the key (a shell's ``OLDPWD`` or ``_`` would make
every run a miss): only ``Stack.environment`` holds it, so a result that reads that field must
not be remembered (``config --environment`` is not). Its values are checked to be strings,
the one thing validation asks of them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from compose.stackfile import LoadedStack

try:  # the builtin module: hashlib's import (its OpenSSL binding) costs ~5 ms of a ~100 ms run
    from _blake2 import blake2b
except ImportError:  # an interpreter built without it
    from hashlib import blake2b

T = TypeVar("T")
KEEP = 64  # entries; the oldest go first
_MODEL_DIR = Path(__file__).resolve().parent
_UNITS = _MODEL_DIR.parent / "stackfile" / "units.py"


def remember(loaded: LoadedStack, params: Any, compute: Callable[[], T], *, caller: str) -> T:
    """``compute()`` (JSON data) for this tree and ``params``; from the memo when this exact
    input was computed before by the same code. ``caller`` is the caller's module name."""
    folder = _folder()
    if folder is None or not all(isinstance(v, str) for v in loaded.environment.values()):
        return compute()
    key = _key(loaded, params, caller)
    path = folder / f"{key}.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        value: T = json.loads(path.read_text(encoding="utf-8"))["value"]
        os.utime(path)  # recently used: pruned last
        return value
    value = compute()
    _store(folder, path, value)
    return value


def model_input(loaded: LoadedStack) -> dict[str, Any]:
    """What ``Stack.model_validate`` gets for this loaded tree (``compose.model.load``)."""
    data = {
        "name": loaded.name,
        **loaded.tree,
        "__working_dir__": loaded.working_dir,
        "__files__": tuple(loaded.files),
        "__environment__": dict(loaded.environment),
        "__disabled__": frozenset(loaded.disabled_services),
    }
    data.pop("version", None)
    data.pop("include", None)
    return data


def _key(loaded: LoadedStack, params: Any, caller: str) -> str:
    data = model_input(loaded)
    del data["__environment__"]
    data["__disabled__"] = sorted(data["__disabled__"])  # a set's order changes per process
    digest = blake2b(_code_fingerprint(caller).encode(), digest_size=32)
    digest.update(repr((params, data)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


_FINGERPRINTS: dict[str, str] = {}


def _code_fingerprint(caller: str) -> str:
    """A hash of the source that turns the input into the result: any edit is a miss."""
    found = _FINGERPRINTS.get(caller)
    if found is None:
        module = sys.modules[caller].__file__ or ""
        sources = [*sorted(_MODEL_DIR.glob("*.py")), _UNITS, Path(module), _pydantic_version()]
        digest = blake2b(caller.encode(), digest_size=32)
        for source in sources:
            digest.update(source.read_bytes())
        found = _FINGERPRINTS[caller] = digest.hexdigest()
    return found


def _pydantic_version() -> Path:
    """pydantic's ``version.py`` (read, not imported: importing pydantic is what we avoid)."""
    spec = importlib.util.find_spec("pydantic")
    origin = spec.origin if spec else None
    return Path(origin or "").with_name("version.py")


def _folder() -> Path | None:
    from compose import paths

    folder = paths.cache_dir() / "model"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def _store(folder: Path, path: Path, value: Any) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"value": value}), encoding="utf-8")
        os.replace(tmp, path)
        _prune(folder)
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _prune(folder: Path) -> None:
    entries = list(folder.glob("*.json"))
    if len(entries) <= KEEP:
        return
    for old in sorted(entries, key=_mtime)[: len(entries) - KEEP]:
        with contextlib.suppress(OSError):
            old.unlink()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
