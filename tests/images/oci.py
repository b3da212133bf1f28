"""Deterministic OCI layers and image layouts from directory trees.

Fixed mtimes, root ownership, sorted entries and a gzip header without a timestamp make the
digests depend on the file contents only.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

EPOCH = 1_700_000_000  # fixed mtime of every entry
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


@dataclass(frozen=True)
class Layer:
    digest: str  # of the gzip blob
    diff_id: str  # of the uncompressed tar
    size: int
    path: Path  # the gzip blob


@dataclass
class ImageSpec:
    name: str  # "busybox"
    tag: str  # "latest"
    layers: list[Layer]
    config: dict[str, object] = field(default_factory=dict)


def _normalize(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = EPOCH
    info.uname = info.gname = ""
    if not info.isdev():
        info.uid = info.gid = 0
    return info


def _sorted_walk(root: Path) -> list[Path]:
    paths: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        paths.extend(base / n for n in sorted(dirnames + filenames))
    return sorted(paths, key=lambda p: p.relative_to(root).parts)


def write_tar(root: Path, dest: Path, owners: dict[str, tuple[int, int]] | None = None) -> None:
    """Pack ``root`` as an uncompressed, reproducible tar (paths relative, no leading ./)."""
    owners = owners or {}
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in _sorted_walk(root):
            rel = path.relative_to(root).as_posix()
            info = _normalize(tar.gettarinfo(str(path), rel))
            info.uid, info.gid = owners.get(rel, (info.uid, info.gid))
            if info.isreg():
                with open(path, "rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def make_layer(root: Path, blobs: Path, owners: dict[str, tuple[int, int]] | None = None) -> Layer:
    """Tar + gzip ``root`` into ``blobs/sha256/<hex>``."""
    (blobs / "sha256").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=blobs) as tmp:
        raw = Path(tmp) / "layer.tar"
        write_tar(root, raw, owners)
        diff_id = sha256_file(raw)
        packed = Path(tmp) / "layer.tar.gz"
        with open(raw, "rb") as src, open(packed, "wb") as out:
            with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=6) as gz:
                shutil.copyfileobj(src, gz, 1 << 20)
        digest = sha256_file(packed)
        final = blobs / "sha256" / digest.split(":", 1)[1]
        os.replace(packed, final)
    return Layer(digest, diff_id, final.stat().st_size, final)


def put_json(blobs: Path, doc: dict[str, object]) -> tuple[str, int]:
    data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (blobs / "sha256").mkdir(parents=True, exist_ok=True)
    (blobs / "sha256" / digest.split(":", 1)[1]).write_bytes(data)
    return digest, len(data)


def image_config(spec: ImageSpec, architecture: str = "amd64") -> dict[str, object]:
    return {
        "architecture": architecture,
        "os": "linux",
        "created": "2023-11-14T22:13:20Z",
        "config": spec.config,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in spec.layers]},
        "history": [
            {"created_by": f"pycompose test image layer {i}"} for i in range(len(spec.layers))
        ],
    }


def descriptor(media_type: str, digest: str, size: int, **extra: object) -> dict[str, object]:
    return {"mediaType": media_type, "digest": digest, "size": size, **extra}


def write_manifest(blobs: Path, spec: ImageSpec, architecture: str = "amd64") -> dict[str, object]:
    """Store config + manifest blobs; return the manifest's descriptor."""
    cfg_digest, cfg_size = put_json(blobs, image_config(spec, architecture))
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, cfg_digest, cfg_size),
        "layers": [descriptor(OCI_LAYER_GZIP, ly.digest, ly.size) for ly in spec.layers],
    }
    digest, size = put_json(blobs, manifest)
    return descriptor(OCI_MANIFEST, digest, size)


def write_layout(layout: Path, entries: list[tuple[str, dict[str, object]]]) -> None:
    """Write ``oci-layout`` and ``index.json`` naming each (tag, descriptor)."""
    manifests = [{**desc, "annotations": {REF_NAME: tag}} for tag, desc in entries]
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (layout / "index.json").write_text(json.dumps(index, sort_keys=True, indent=1))


def write_docker_save(layout: Path, desc: dict[str, object], repo_tag: str, dest: Path) -> None:
    """A classic ``docker save`` tar (manifest.json + <id>/layer.tar) of one image."""
    blobs = layout / "blobs" / "sha256"
    manifest = json.loads((blobs / str(desc["digest"]).split(":")[1]).read_bytes())
    cfg_hex = manifest["config"]["digest"].split(":")[1]
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp, tarfile.open(dest, "w") as tar:
        entries = []
        for layer in manifest["layers"]:
            hexd = layer["digest"].split(":")[1]
            raw = Path(tmp) / f"{hexd}.tar"
            with gzip.open(blobs / hexd, "rb") as src, open(raw, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            entries.append(f"{hexd}/layer.tar")
            tar.add(raw, entries[-1], filter=_normalize)
        tar.add(blobs / cfg_hex, f"{cfg_hex}.json", filter=_normalize)
        doc = [{"Config": f"{cfg_hex}.json", "RepoTags": [repo_tag], "Layers": entries}]
        meta = Path(tmp) / "manifest.json"
        meta.write_text(json.dumps(doc))
        tar.add(meta, "manifest.json", filter=_normalize)
