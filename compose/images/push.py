"""Push blobs and manifests from a directory of blobs (an OCI layout's ``blobs/``) to a registry.

Used by the test tooling to fill a local registry; small on purpose: monolithic uploads, blobs
the registry already has are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from compose.images import reference
from compose.images.client import RegistryClient
from compose.images.settings import RegistrySettings


def push_manifest(
    blobs: Path,
    target: str,
    manifest: bytes,
    media_type: str,
    *,
    children: Sequence[tuple[bytes, str]] = (),
    settings: RegistrySettings | None = None,
    creds: tuple[str, str] | None = None,
) -> None:
    """Push the blobs ``manifest`` (and ``children`` manifests of an index) need, then it.

    ``blobs`` is a ``sha256/<hex>`` blob directory; ``target`` a reference with a tag.
    """
    import json

    ref = reference.parse(target)
    with RegistryClient(ref.domain, settings=settings, creds=creds) as client:
        for body, child_type in children:
            _push_blobs(client, ref.path, blobs, json.loads(body))
            digest = _digest(body)
            client.put_manifest(ref.path, digest, body, child_type)
        if not children:
            _push_blobs(client, ref.path, blobs, json.loads(manifest))
        client.put_manifest(ref.path, ref.tag or "latest", manifest, media_type)


def _push_blobs(client: RegistryClient, repo: str, blobs: Path, manifest: dict[str, Any]) -> None:
    for desc in [manifest["config"], *manifest["layers"]]:
        digest = desc["digest"]
        if not client.blob_exists(repo, digest):
            client.upload_blob(repo, digest, blobs / "sha256" / digest.split(":", 1)[1])


def _digest(body: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(body).hexdigest()
