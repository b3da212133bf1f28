"""Remembered results of validating a loaded tree, so an unchanged stack skips pydantic.

Importing pydantic and building the model's validators costs ~250 ms, three times all that
``docker compose config`` takes. What a command derives from the validated ``Stack`` (the text
``config`` prints, the model's warnings) is a pure function of the model's input: the loader's
tree plus the stack's name, files, working dir, environment and disabled services. ``remember``
keys the result by a hash of that input, of the caller's own parameters and of the code that
computes it (the model and loader packages and the caller's module), and keeps it in
``paths.cache_dir()/model``. Nothing but a successful result is kept: a stack with an error
is validated (and its error located) on every run.

``recall``/``keep`` go one step earlier, for the commands that start from ``LoadOptions``: the
result is keyed by the options (environment included) and kept with the questions the loader
asked the filesystem (``compose.stackfile.fs``: files read, hashed; files looked for). When
every answer is unchanged the loader would build the same tree, so neither the loader nor the
YAML parser is imported: ``config`` then costs little more than starting Python and click.

``load_stack`` keeps the validated ``Stack`` itself the same way (pickled: the supervisor that
``up -d`` starts needs the typed model, and unpickling it builds no validators and runs
neither the loader nor the YAML parser). A pickle is code: it is read only from a file this
user owns and nobody else can write.

The interpolation environment is left out of the tree's key (a shell's ``OLDPWD`` or ``_``
would make every run a miss): only ``Stack.environment`` holds it, so a result that reads that
field must not be remembered (``config --environment`` is not). Its values are checked to be
strings, the one thing validation asks of them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from compose.model.service import Service
    from compose.model.stack import Stack
    from compose.stackfile import LoadedStack, LoadOptions
    from compose.stackfile.fs import Recording

try:  # the builtin module: hashlib's import (its OpenSSL binding) costs ~5 ms of a ~100 ms run
    from _blake2 import blake2b
except ImportError:  # an interpreter built without it
    from hashlib import blake2b

T = TypeVar("T")
KEEP = 128  # entries; the oldest go first
_MODEL_DIR = Path(__file__).resolve().parent
_LOADER_DIR = _MODEL_DIR.parent / "stackfile"


def recall(options: LoadOptions, params: Any, *, caller: str) -> Any | None:
    """The value ``keep`` stored for these options and ``params``, if the filesystem still
    answers the loader's questions as it did then; else None."""
    folder = _folder()
    if folder is None:
        return None
    from compose.stackfile import fs

    path = folder / f"load-{_options_key(options, params, caller)}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        probes = [tuple(p) for p in entry["probes"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not fs.unchanged(probes):
        return None
    os.utime(path)
    return entry["value"]


def keep(options: LoadOptions, params: Any, notes: Recording, value: Any, *, caller: str) -> None:
    """Store ``value`` for ``recall``: what was computed from loading ``options`` while
    ``notes`` recorded the loader's questions (not when it read stdin: that cannot be asked
    again)."""
    folder = _folder()
    if folder is None or not notes.replayable:
        return
    path = folder / f"load-{_options_key(options, params, caller)}.json"
    _store(folder, path, {"probes": notes.probes, "value": value})


def load_stack(
    options: LoadOptions, derive: Callable[[Service], str] | None = None
) -> tuple[Stack, dict[str, str]]:
    """``compose.model.load_stack(options)``, from the memo when the options are the same and
    the filesystem answers the loader's questions as it did when this stack was validated;
    with ``derive(service)`` for each service, remembered with it (a value pydantic's
    serializer computes: building that serializer is as costly as validating)."""
    caller = derive.__module__ if derive else __name__
    params = derive.__qualname__ if derive else None
    folder = _folder()
    key = _options_key(options, params, caller)
    path = folder / f"stack-{key}.pickle" if folder else None
    found = _unpickle(path) if path is not None else None
    if found is not None:
        return found
    from compose.model.load import load_stack as load
    from compose.stackfile import fs

    with fs.recording() as notes:
        stack = load(options)
    derived = {name: derive(svc) for name, svc in stack.services.items()} if derive else {}
    if path is not None and notes.replayable:
        _store_pickle(path, {"probes": notes.probes, "stack": stack, "derived": derived})
    return stack, derived


def _unpickle(path: Path) -> tuple[Stack, dict[str, str]] | None:
    import pickle

    from compose.stackfile import fs

    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return None  # written by someone else: never unpickled
            entry = pickle.load(f)
        probes = [tuple(p) for p in entry["probes"]]
        stack: Stack = entry["stack"]
        derived: dict[str, str] = entry["derived"]
    except Exception:  # missing, truncated, or of an older layout: validate again
        return None
    if not fs.unchanged(probes):
        return None
    os.utime(path)
    return stack, derived


def _store_pickle(path: Path, entry: dict[str, Any]) -> None:
    import pickle

    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            pickle.dump(entry, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        _prune(path.parent)
    except (OSError, pickle.PicklingError):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _options_key(options: LoadOptions, params: Any, caller: str) -> str:
    fields = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    fields["environ"] = sorted(fields["environ"].items())
    digest = blake2b(_code_fingerprint(caller).encode(), digest_size=32)
    material = (params, os.getcwd(), os.environ.get("HOME"), fields)
    digest.update(repr(material).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def remember(loaded: LoadedStack, params: Any, compute: Callable[[], T], *, caller: str) -> T:
    """``compute()`` (JSON data) for this tree and ``params``; from the memo when this exact
    input was computed before by the same code. ``caller`` is the caller's module name."""
    folder = _folder()
    if folder is None or not all(isinstance(v, str) for v in loaded.environment.values()):
        return compute()
    key = _key(loaded, params, caller)
    path = folder / f"model-{key}.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        value: T = json.loads(path.read_text(encoding="utf-8"))["value"]
        os.utime(path)  # recently used: pruned last
        return value
    value = compute()
    _store(folder, path, {"value": value})
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
        sources = [
            *sorted(_MODEL_DIR.glob("*.py")),
            *sorted(_LOADER_DIR.glob("*.py")),
            Path(module),
            _pydantic_version(),
        ]
        digest = blake2b(f"{caller} {sys.version}".encode(), digest_size=32)
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
        tmp.write_text(json.dumps(value), encoding="utf-8")
        os.replace(tmp, path)
        _prune(folder)
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _prune(folder: Path) -> None:
    entries = [*folder.glob("*.json"), *folder.glob("*.pickle")]
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
