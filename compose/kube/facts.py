"""What the conversion needs from outside the model, read once: files and local images.

The converter itself is pure: it takes a ``Facts`` value. ``gather`` is the only code of
``compose.kube`` that touches the disk, and only to read: bind-mount sources, config and
secret files (their kind, and their content when small enough for a ConfigMap), and the
config of each service image that is already in the local image store (``EXPOSE`` ports and
``HEALTHCHECK``, which a cluster would otherwise never see). Nothing is pulled.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from compose.images import ImageStore
    from compose.model import Stack

CONFIGMAP_MAX = 1 << 20  # a ConfigMap or Secret holds at most 1 MiB
FileKind = Literal["file", "dir", "missing", "socket", "other"]


@dataclass(frozen=True)
class FileFact:
    kind: FileKind
    data: bytes | None = None  # a file's content, when it is at most CONFIGMAP_MAX
    size: int = 0


@dataclass(frozen=True)
class ImageFact:
    exposed_ports: tuple[str, ...] = ()  # "6379/tcp"
    healthcheck: Mapping[str, Any] | None = None  # the image config's Healthcheck (Test, ...)


@dataclass(frozen=True)
class Facts:
    files: Mapping[str, FileFact] = field(default_factory=lambda: MappingProxyType({}))
    images: Mapping[str, ImageFact] = field(default_factory=lambda: MappingProxyType({}))

    def file(self, path: str) -> FileFact:
        return self.files.get(path, FileFact("missing"))


def gather(stack: Stack, store: ImageStore | None = None) -> Facts:
    """Read what ``stack`` refers to; ``store`` None = no image lookups."""
    files = {path: read_file(Path(path)) for path in _paths(stack)}
    images = _images(stack, store) if store is not None else {}
    return Facts(MappingProxyType(files), MappingProxyType(images))


def read_file(path: Path) -> FileFact:
    try:
        info = path.stat()
    except OSError:
        return FileFact("missing")
    if stat.S_ISDIR(info.st_mode):
        return FileFact("dir")
    if stat.S_ISSOCK(info.st_mode):
        return FileFact("socket")
    if not stat.S_ISREG(info.st_mode):
        return FileFact("other")
    if info.st_size > CONFIGMAP_MAX:
        return FileFact("file", None, info.st_size)
    try:
        data = path.read_bytes()
    except OSError:
        return FileFact("missing")
    return FileFact("file", data, len(data))


def _paths(stack: Stack) -> Iterable[str]:
    for service in stack.services.values():
        for mount in service.volumes:
            if mount.type == "bind" and mount.source:
                yield _absolute(stack, mount.source)
    for resource in (*stack.configs.values(), *stack.secrets.values()):
        if resource.file and not resource.external:
            yield _absolute(stack, resource.file)


def _absolute(stack: Stack, path: str) -> str:
    return os.path.normpath(stack.working_dir / os.path.expanduser(path))


def source_path(stack: Stack, path: str) -> str:
    """The key ``Facts.files`` uses for a path written in the stack."""
    return _absolute(stack, path)


def _images(stack: Stack, store: ImageStore) -> dict[str, ImageFact]:
    from compose.errors import ImageError

    found = {}
    for service in stack.services.values():
        ref = service.image
        if not ref or ref in found:
            continue
        try:
            config = store.resolve(ref).config
        except (ImageError, OSError, ValueError, KeyError):
            continue
        found[ref] = ImageFact(tuple(config.exposed_ports), config.healthcheck)
    return found
