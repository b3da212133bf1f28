"""Volumes: named volumes as directories, copy-up, binds, anonymous volumes, tmpfs, secrets.

- named volume ``<project>_<name>`` (or ``name:``) = ``<state>/volumes/<name>/_data``; created on
  first use; ``external: true`` volumes must already exist;
- copy-up: the first time an EMPTY named (or anonymous) volume is mounted, the image content at
  the mount point is copied in with owners, modes and symlinks kept (``volume.nocopy`` skips it);
  a marker next to ``_data`` records that it happened, so an emptied volume stays empty;
- bind sources are relative to the project directory; missing sources are created as dirs;
- an anonymous volume is a volume like the named ones, named as Docker names them (64 random
  hex digits), drawn when its container is created: a new container (after `down`, `rm`, a
  scale-up, a one-off) starts on fresh ones, a recreated replica's successor inherits its
  predecessor's (``anonymous``: target -> volume, from the records; `up -V` renews them);
  `down` and `rm` keep them, `down -v`, `rm -v` and `run --rm` remove them (the planner's
  ``anonymous_mounts`` recognizes them in a record's mounts by that name);
- an image's ``VOLUME`` paths that no service mount covers get anonymous volumes too (Docker);
- ``tmpfs`` (service key and long form) with size/mode; ``read_only`` is the runtime's;
- ``volumes_from: [svc[:ro]]`` repeats that service's bind/volume mounts;
- secrets (``/run/secrets/<name>``) and configs (``/<name>``) from files, bound read-only.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from compose import paths
from compose.errors import OperationError, UserError
from compose.planner.stack import uncovered_image_volumes
from compose.runtime.spec import Mount
from compose.stackfile.units import parse_bytes
from compose.state import layout

INITIALIZED = "initialized"
DATA_MODE = 0o755  # a new volume's _data and a created bind source, whatever the umask


def volume_root(full_name: str) -> Path:
    return layout.volume_root(full_name)


def volume_data(full_name: str) -> Path:
    return volume_root(full_name) / "_data"


def ensure_volume(full_name: str, external: bool = False) -> Path:
    data = volume_data(full_name)
    if external and not data.is_dir():
        raise UserError(
            f'external volume "{full_name}" not found',
            hint=f"create it first (mkdir -p {data}) or drop `external: true`",
        )
    if not data.is_dir():
        data.mkdir(parents=True, exist_ok=True)
        data.chmod(DATA_MODE)  # Docker's; copy-up then gives it the image directory's
    return data


def remove_volume(full_name: str) -> None:
    shutil.rmtree(volume_root(full_name), ignore_errors=True)


def list_volumes() -> list[str]:
    root = paths.volumes_dir()
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


# copy-up ------------------------------------------------------------------------------------
def copy_up(volume: Path, layers: Sequence[Path], target: str) -> bool:
    """Fill an empty, never-initialized volume from the image at ``target``, as the container
    sees it (``compose.runtime.copyup``: the layers mounted as one overlay, the target resolved
    inside it, the copy made through fds, so an image's symlinks never reach the host)."""
    marker = volume.parent / INITIALIZED
    if marker.exists():
        return False
    if any(volume.iterdir()):
        marker.touch()
        return False
    from compose.runtime import copyup

    copied = bool(layers) and copyup.copy_up(layers, target, volume)
    marker.touch()
    return copied


# service mounts -----------------------------------------------------------------------------
def volume_full_name(stack: Any, key: str) -> str:
    spec = stack.volumes.get(key)
    if spec is not None and spec.name:
        return str(spec.name)
    return key if spec is not None and spec.external else f"{stack.name}_{key}"


Anonymous = dict[str, str]  # target -> anonymous volume name


def _anonymous(anonymous: Anonymous, target: str) -> str:
    """The container's anonymous volume at ``target``: the one it has (or inherits), else a
    new one, named as Docker names them (and entered into ``anonymous``)."""
    return anonymous.setdefault(target, secrets.token_hex(32))


def service_mounts(
    stack: Any,
    service: Any,
    replica: str,
    layers: Sequence[Path] = (),
    seen: Iterable[str] = (),
    image_volumes: Sequence[str] = (),
    anonymous: Anonymous | None = None,
    shared: Callable[[str], Mapping[str, str]] | None = None,
) -> list[Mount]:
    """Every mount of the container ``replica``, in the order Docker applies them.
    ``anonymous``: the anonymous volumes it has or inherits (target -> name; a target without
    one gets a new volume, entered there); ``image_volumes``: the image's ``VOLUME`` paths,
    each an anonymous volume unless the service mounts something there; ``shared(service)``:
    the anonymous volumes of that service's container, for ``volumes_from``."""
    own = {} if anonymous is None else anonymous
    share = shared or (lambda _service: {})
    mounts = [
        m for entry in service.volumes for m in _volume_mount(stack, service, own, entry, layers)
    ]
    mounts += _tmpfs_mounts(service.tmpfs)
    mounts += _image_volumes(own, image_volumes, {m.target for m in mounts}, layers)
    mounts += _volumes_from(stack, service, replica, share, [*seen, service.name])
    mounts += _file_mounts(stack, replica, service.secrets, stack.secrets, "/run/secrets/")
    mounts += _file_mounts(stack, replica, service.configs, stack.configs, "/")
    return mounts


def _volume_mount(
    stack: Any, service: Any, anonymous: Anonymous, vol: Any, layers: Sequence[Path]
) -> list[Mount]:
    if vol.type == "bind":
        return [Mount(vol.target, "bind", str(_bind_source(stack, vol)), vol.read_only)]
    if vol.type == "tmpfs":
        opts = vol.tmpfs
        return [
            Mount(
                vol.target,
                "tmpfs",
                read_only=vol.read_only,
                size=opts.size if opts else None,
                mode=opts.mode if opts else None,
            )
        ]
    if vol.type != "volume":
        raise UserError(f'service "{service.name}": volume type "{vol.type}" is not supported')
    if vol.source:
        spec = stack.volumes.get(vol.source)
        data = ensure_volume(volume_full_name(stack, vol.source), bool(spec and spec.external))
    else:
        data = ensure_volume(_anonymous(anonymous, vol.target))
    if not (vol.volume and vol.volume.nocopy):
        copy_up(data, layers, vol.target)
    subpath = _subpath(service, vol, data)
    return [Mount(vol.target, "bind", str(data), vol.read_only, subpath=subpath)]


def _subpath(service: Any, vol: Any, data: Path) -> str:
    """``volume.subpath``: a relative path that exists in the volume (Docker's rules); it is
    resolved inside the volume again when mounted."""
    subpath = (vol.volume.subpath if vol.volume else None) or ""
    if not subpath:
        return ""
    where = f'service "{service.name}": volume {vol.source or vol.target} subpath "{subpath}"'
    if subpath.startswith("/") or ".." in subpath.split("/"):
        raise UserError(f"{where}: must be a relative path inside the volume")
    from compose.runtime.rootfs import source_is_dir

    try:
        source_is_dir(str(data), subpath)
    except OSError as exc:
        raise UserError(f"{where}: {exc.strerror or exc} in the volume") from None
    return subpath


def _image_volumes(
    anonymous: Anonymous, image_volumes: Sequence[str], targets: set[str], layers: Sequence[Path]
) -> list[Mount]:
    mounts = []
    for target in uncovered_image_volumes(image_volumes, targets):
        data = ensure_volume(_anonymous(anonymous, os.path.normpath(target)))
        copy_up(data, layers, target)
        mounts.append(Mount(os.path.normpath(target), "bind", str(data)))
    return mounts


def _bind_source(stack: Any, vol: Any) -> Path:
    source = Path(os.path.expanduser(vol.source or ""))
    if not source.is_absolute():
        source = Path(stack.working_dir) / source
    create = vol.bind is None or vol.bind.create_host_path
    if not source.exists():
        if not create:
            raise UserError(f"bind source path does not exist: {source}")
        _make_dirs(source)
    return source


def _make_dirs(path: Path) -> None:
    """mkdir -p with Docker's 0755 for each created level (the process umask is private)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        directory.chmod(DATA_MODE)


def _tmpfs_mounts(entries: Iterable[str]) -> list[Mount]:
    """``tmpfs: [/run, "/x:size=64m,mode=1777,exec,uid=1000"]``: Docker's option words."""
    from compose.runtime.rootfs import tmpfs_options

    mounts = []
    for entry in entries:
        target, _, opts = entry.partition(":")
        size, mode, more = None, None, []
        for opt in filter(None, opts.split(",")):
            key, _, value = opt.partition("=")
            if key == "size":
                size = parse_bytes(value)
            elif key == "mode":
                mode = int(value, 8)
            else:
                more.append(opt)
        try:
            tmpfs_options(more)
        except ValueError as exc:
            raise UserError(f"tmpfs {entry}: {exc}") from None
        mounts.append(Mount(target, "tmpfs", size=size, mode=mode, options=tuple(more)))
    return mounts


def _volumes_from(
    stack: Any,
    service: Any,
    replica: str,
    shared: Callable[[str], Mapping[str, str]],
    seen: list[str],
) -> list[Mount]:
    mounts: list[Mount] = []
    for entry in service.volumes_from:
        name, _, mode = entry.partition(":")
        if name.startswith("container:"):
            raise UserError(f'service "{service.name}": volumes_from {name} is not supported')
        if name in seen or name not in stack.services:
            continue
        source = stack.services[name]
        source_replica = replica.rsplit("-", 2)[0] + f"-{name}-1"
        own = dict(shared(name))
        for m in service_mounts(stack, source, source_replica, (), seen, (), own, shared):
            if m.type != "tmpfs" and not m.target.startswith("/run/secrets/"):
                mounts.append(replace(m, read_only=m.read_only or mode == "ro"))
    return mounts


def _file_mounts(
    stack: Any, replica: str, refs: Iterable[Any], defs: dict[str, Any], prefix: str
) -> list[Mount]:
    mounts = []
    for ref in refs:
        spec = defs.get(ref.source)
        if spec is None or not spec.file:
            raise OperationError(
                f'"{ref.source}": only file-based secrets and configs are supported'
            )
        path = Path(spec.file)
        if not path.is_absolute():
            path = Path(stack.working_dir) / path
        target = ref.target or ref.source
        target = target if target.startswith("/") else prefix + target
        if any(v is not None for v in (ref.uid, ref.gid, ref.mode)):
            path = _owned_copy(stack.name, replica, target, path, ref)
        mounts.append(Mount(target, "bind", str(path), True))
    return mounts


FILE_MODE = 0o444  # the spec's default mode of a secret or config given uid/gid/mode


def _owned_copy(project: str, replica: str, target: str, source: Path, ref: Any) -> Path:
    """``uid``/``gid``/``mode`` of a secret or config: a copy with that owner and mode (the
    host file's own are left alone), under the project's private state; bound read-only."""
    try:
        uid, gid = int(ref.uid or 0), int(ref.gid or 0)
    except ValueError:
        raise UserError(f'"{ref.source}": uid and gid must be numbers') from None
    mode = FILE_MODE if ref.mode is None else ref.mode
    directory = layout.files_dir(project, replica)
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / hashlib.sha256(target.encode()).hexdigest()[:16]
    tmp = copy.with_suffix(".tmp")
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise UserError(f'"{ref.source}": {source}: {exc.strerror or exc}') from None
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    os.replace(tmp, copy)  # a running container keeps the old inode
    return copy
