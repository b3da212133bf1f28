"""OCI images: references, the local store, registry pulls, archive loads.

Public API (other areas use only these names)::

    from compose.images import ImageStore, Image, ImageConfig, pull, ensure_image, load_archive

    store = ImageStore()                  # root: compose.paths.images_dir() unless given
    image = store.resolve("redis:7")      # local only; compose.errors.ImageError if absent
    store.has("redis:7")                  # bool
    image = pull("127.0.0.1:5000/redis:7", store=store, platform="linux/amd64",
                 progress=None)           # progress: compose.images.progress.PullProgress
    image = ensure_image(ref, policy="missing")  # always|missing|if_not_present|never|build|
                                                 # daily|weekly|every_<duration>
    images = load_archive(Path("save.tar"))      # docker save tars, OCI layouts/archives

``Image``: ``ref`` (normalized, ``docker.io/library/redis:7``), ``digest`` (manifest),
``layers`` (unpacked layer dirs, LOWEST first: reverse them for overlayfs ``lowerdir=``, which
lists the highest first), ``config`` (``ImageConfig``: entrypoint, cmd, env, working_dir, user,
exposed_ports like ``"6379/tcp"``, volumes, labels, stop_signal, healthcheck),
``config_digest``, ``platform``.

Layers hold overlayfs whiteouts already: a deleted file is a 0/0 character device, an opaque
directory carries ``trusted.overlay.opaque=y`` (so mount overlay as root, without ``userxattr``).
Layer dirs are shared between images and must be mounted read-only (as lowerdirs), never written.

Registry settings: ``compose.paths.config_dir()/daemon.json`` (``registry-mirrors``,
``insecure-registries``); credentials: ``$DOCKER_CONFIG/config.json`` or
``~/.docker/config.json`` ``auths``. Loopback registries use plain HTTP.

httpx and rich are imported only when a pull actually runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from compose.images.ensure import ensure_image
from compose.images.model import Image, ImageConfig
from compose.images.reference import Reference, parse as parse_reference
from compose.images.store import ImageStore

if TYPE_CHECKING:
    from compose.images.progress import PullProgress

__all__ = [
    "Image",
    "ImageConfig",
    "ImageStore",
    "Reference",
    "ensure_image",
    "load_archive",
    "parse_reference",
    "pull",
]


def pull(
    ref: str,
    *,
    store: ImageStore | None = None,
    platform: str | None = None,
    progress: PullProgress | None = None,
    **kwargs: Any,
) -> Image:
    """Pull ``ref`` from its registry into the store (see ``compose.images.registrypull``; a
    submodule named ``pull`` replaced this function as the package's attribute once imported,
    and ``from compose.images import pull`` then gave the module)."""
    from compose.images.registrypull import pull as _pull

    return _pull(ref, store=store, platform=platform, progress=progress, **kwargs)


def load_archive(
    path: Path, *, store: ImageStore | None = None, platform: str | None = None
) -> list[Image]:
    """Load a ``docker save`` tar or an OCI layout (dir or tar) into the store, offline."""
    from compose.images.load import load

    return load(path, store=store, platform=platform)
