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
from collections.abc import Mapping
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
    known = _KNOWN.get(id(service))
    canonical = known[1] if known is not None and known[0] is service else container_config(service)
    if image_digest:
        canonical = _canonical({**json.loads(canonical), "image_digest": image_digest})
    return hashlib.sha256(canonical.encode()).hexdigest()


def container_config(service: Service) -> str:
    """The canonical JSON that ``config_hash`` hashes (before the image digest is mixed in)."""
    data = service.model_dump(
        mode="json", exclude=EXCLUDED, exclude_defaults=True, context={"extensions": False}
    )
    if data.get("deploy") == {}:
        del data["deploy"]
    if data.get("restart") == "no":
        del data["restart"]
    return _canonical(data)


def _canonical(data: dict[str, object]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ``container_config`` of the services of the stack loaded last, when they came from the memo
# (computing it builds pydantic's serializer: ~70 ms the supervisor's start would pay); keyed by
# the object, which the entry keeps alive, so a copy with other fields is never taken for it
_KNOWN: dict[int, tuple[Service, str]] = {}


def remember(services: Mapping[str, Service], configs: Mapping[str, str]) -> None:
    """``configs`` (name -> ``container_config``) are those of ``services`` (the memo's)."""
    global _KNOWN
    _KNOWN = {id(svc): (svc, configs[name]) for name, svc in services.items() if name in configs}
