"""Image value types and the media types of the OCI / Docker distribution formats."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

MANIFEST_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEX_TYPES = (DOCKER_LIST, OCI_INDEX)
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The runtime-relevant part of an image config (Docker's names, tuples for lists)."""

    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    env: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""
    exposed_ports: tuple[str, ...] = ()  # "6379/tcp"
    volumes: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    stop_signal: str | None = None
    healthcheck: Mapping[str, Any] | None = field(default=None, hash=False)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ImageConfig:
        """Build from the ``config`` object of an image config blob."""
        cfg = doc.get("config") or {}
        health = cfg.get("Healthcheck")
        return cls(
            entrypoint=_tuple_or_none(cfg.get("Entrypoint")),
            cmd=_tuple_or_none(cfg.get("Cmd")),
            env=tuple(cfg.get("Env") or ()),
            working_dir=cfg.get("WorkingDir") or "",
            user=cfg.get("User") or "",
            exposed_ports=tuple(sorted(cfg.get("ExposedPorts") or {})),
            volumes=tuple(sorted(cfg.get("Volumes") or {})),
            labels=MappingProxyType(dict(cfg.get("Labels") or {})),
            stop_signal=cfg.get("StopSignal") or None,
            healthcheck=MappingProxyType(dict(health)) if health else None,
        )


def _tuple_or_none(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True, slots=True)
class Image:
    """A locally available image: unpacked layer dirs, LOWEST first, and its config."""

    ref: str  # normalized reference it was resolved from, "docker.io/library/redis:7"
    digest: str  # manifest digest
    layers: tuple[Path, ...]
    config: ImageConfig
    config_digest: str = ""
    platform: str = "linux/amd64"


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Mapping[str, Any] | None = None
    urls: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Descriptor:
        return cls(
            media_type=doc.get("mediaType", ""),
            digest=doc["digest"],
            size=int(doc.get("size", -1)),
            platform=doc.get("platform"),
            urls=tuple(doc.get("urls") or ()),
        )
