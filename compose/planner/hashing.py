"""The config hash of a service: changes exactly when its replicas must be recreated.

Like docker compose's ``ServiceHash`` (``pkg/compose/hash.go``): sha256 of the canonical JSON of
the service with the fields that don't change a container cleared: ``build``, ``pull_policy``,
``scale``, ``deploy.replicas``, ``depends_on``, ``profiles`` and every ``x-*`` extension.
Unset fields and fields equal to their default hash the same (``exclude_defaults``), so
``restart: "no"`` and no ``restart`` agree. The image digest, when known, is mixed in so that a
re-pulled or rebuilt image also recreates.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compose.model import Service

EXCLUDED: dict[str, bool | set[str]] = {
    "build": True,
    "pull_policy": True,
    "pull_refresh_after": True,
    "scale": True,
    "depends_on": True,
    "profiles": True,
    "deploy": {"replicas"},
}


def config_hash(service: Service, image_digest: str | None = None) -> str:
    """Hex sha256 of the container-relevant configuration of ``service``."""
    data = service.model_dump(
        mode="json", exclude=EXCLUDED, exclude_defaults=True, context={"extensions": False}
    )
    if data.get("deploy") == {}:
        del data["deploy"]
    if data.get("restart") == "no":
        del data["restart"]
    if image_digest:
        data["image_digest"] = image_digest
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
