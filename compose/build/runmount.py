"""``RUN --mount=...`` values (CSV ``key=value`` fields), parsed like BuildKit's runmount.

Types: ``bind`` (default; read-only unless ``rw``), ``cache`` (``id`` defaults to the target,
``sharing=shared|private|locked``), ``tmpfs`` (``size``), ``secret`` (``id`` defaults to the
target's basename, target to ``/run/secrets/<id>``, mode 0400), ``ssh`` (agent socket, id
``default``). Values are expanded with the stage's variables first; ``from=`` may not use
variables.
"""

from __future__ import annotations

import csv
import posixpath
from collections.abc import Callable

from compose.build.plan import CONTEXT, RunMount, Source

TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
SHARING = ("shared", "private", "locked")
_KEYS = (
    "type from source src target dst destination readonly ro readwrite rw required size id "
    "sharing mode uid gid env"
).split()


class MountError(ValueError):
    pass


def _bool(key: str, value: str) -> bool:
    from compose.build.gofmt import parse_bool

    try:
        return parse_bool(value)
    except ValueError:
        raise MountError(f"invalid value for {key}: {value}") from None


def _ram_bytes(value: str) -> int:
    units = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    text = value.strip().lower().removesuffix("b").removesuffix("i")
    try:
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(float(text))
    except ValueError:
        raise MountError(f"invalid value for size: {value}") from None


def _int(key: str, value: str, base: int) -> int:
    try:
        return int(value, base)
    except ValueError:
        raise MountError(f"invalid value {value} for {key}") from None


class _Fields:
    def __init__(self) -> None:
        self.values: dict[str, str] = {"type": "bind"}
        self.flags: set[str] = set()
        self.ro_auto = True
        self.read_only = False

    def flag(self, key: str) -> None:
        if key in ("readonly", "ro", "readwrite", "rw"):
            self.read_only = key in ("readonly", "ro")
            self.ro_auto = False
        elif key == "required":
            if self.values["type"] not in ("secret", "ssh"):
                raise MountError(f"unexpected key '{key}' for mount type '{self.values['type']}'")
            self.flags.add("required")
        else:
            raise MountError(f"invalid field '{key}' must be a key=value pair")

    def pair(self, key: str, value: str) -> None:
        if key not in _KEYS:
            raise MountError(f"unexpected key '{key}' in '{key}={value}'")
        if key == "type":
            value = value.lower()
            if value not in TYPES:
                raise MountError(f'unsupported mount type "{value}"')
        if key in ("readonly", "ro", "readwrite", "rw"):
            self.read_only = _bool(key, value) == (key in ("readonly", "ro"))
            self.ro_auto = False
            return
        if key == "required":
            self.flag("required") if _bool(key, value) else None
            return
        if key == "size" and self.values["type"] != "tmpfs":
            raise MountError(f"unexpected key '{key}' for mount type '{self.values['type']}'")
        if key == "sharing" and value.lower() not in SHARING:
            raise MountError(f'unsupported sharing value "{value}"')
        canonical = {"src": "source", "dst": "target", "destination": "target"}.get(key, key)
        self.values[canonical] = value


def parse_mount(
    text: str, expand: Callable[[str], str], resolve: Callable[[str], Source], workdir: str
) -> RunMount:
    """One ``--mount`` value; ``resolve`` maps a ``from=`` name to its Source."""
    try:
        fields = next(csv.reader([text], skipinitialspace=False))
    except (csv.Error, StopIteration):
        raise MountError(f"failed to parse csv mounts: {text!r}") from None
    parsed = _Fields()
    for raw in fields:
        key, has_value, value = raw.partition("=")
        key = key.lower()
        if not has_value:
            parsed.flag(key)
            continue
        if key == "from" and "$" in value[:-1]:
            raise MountError(
                f"'{key}' doesn't support variable expansion, define alias stage instead"
            )
        parsed.pair(key, expand(value) if key != "from" else value)
    return _build(parsed, resolve, workdir)


def _build(parsed: _Fields, resolve: Callable[[str], Source], workdir: str) -> RunMount:
    v = parsed.values
    kind = v["type"]
    if kind not in ("secret", "ssh", "cache"):
        for key in ("mode", "uid", "gid"):
            if key in v:
                raise MountError(f'{key} not allowed for "{kind}" type mounts')
    read_only = parsed.read_only if not parsed.ro_auto else kind not in ("cache", "tmpfs")
    if "sharing" in v and kind != "cache":
        raise MountError(f"invalid cache sharing set for {kind} mount")
    if kind == "secret":
        return _secret(parsed)
    if kind == "ssh":
        return _ssh(parsed)
    target = v.get("target", "")
    if not posixpath.isabs(posixpath.normpath(target or ".")):
        target = posixpath.normpath(posixpath.join("/", workdir, target))
    if target == "/":
        raise MountError(f'invalid mount target "{target}"')
    origin = resolve(v["from"]) if "from" in v else CONTEXT
    if kind == "cache" and "from" not in v:
        origin = Source("scratch")
    return RunMount(
        type=kind,
        target=target,
        source=posixpath.normpath(posixpath.join("/", v.get("source", ""))),
        origin=origin,
        read_only=read_only,
        id=v.get("id") or (posixpath.normpath(v.get("target", "")) if kind == "cache" else ""),
        sharing=v.get("sharing", "shared").lower(),
        mode=_int("mode", v["mode"], 8) if "mode" in v else None,
        uid=_int("uid", v["uid"], 10) if "uid" in v else None,
        gid=_int("gid", v["gid"], 10) if "gid" in v else None,
        size=_ram_bytes(v["size"]) if "size" in v else 0,
    )


def _secret(parsed: _Fields) -> RunMount:
    v = parsed.values
    if "from" in v:
        raise MountError("secret mount should not have a from")
    if not any(k in v for k in ("source", "target", "id")):
        raise MountError("invalid secret mount. one of source, target required")
    if "source" in v and "id" in v:
        raise MountError("both source and id can't be set")
    ident = v.get("source") or v.get("id") or posixpath.basename(v["target"])
    env = v.get("env", "")
    target = v.get("target", "")
    if not env and not target:
        target = "/run/secrets/" + posixpath.basename(ident)
    return RunMount(
        type="secret",
        target=target,
        id=ident,
        mode=_int("mode", v["mode"], 8) if "mode" in v else 0o400,
        uid=_int("uid", v["uid"], 10) if "uid" in v else 0,
        gid=_int("gid", v["gid"], 10) if "gid" in v else 0,
        required="required" in parsed.flags,
        env=env,
    )


def _ssh(parsed: _Fields) -> RunMount:
    v = parsed.values
    if "source" in v:
        raise MountError("ssh does not support source")
    return RunMount(
        type="ssh",
        target=v.get("target") or "/run/buildkit/ssh_agent.0",
        id=v.get("id") or "default",
        mode=_int("mode", v["mode"], 8) if "mode" in v else 0o600,
        uid=_int("uid", v["uid"], 10) if "uid" in v else 0,
        gid=_int("gid", v["gid"], 10) if "gid" in v else 0,
        required="required" in parsed.flags,
    )
