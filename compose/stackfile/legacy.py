"""Old file formats: the v1 format is rejected, ``version:`` is ignored with a warning."""

from __future__ import annotations

from compose.errors import UserError
from compose.stackfile.yamlio import ParsedFile

TOP_LEVEL_KEYS = frozenset(
    {
        "version",
        "name",
        "include",
        "services",
        "networks",
        "volumes",
        "secrets",
        "configs",
        "models",
    }
)
_SERVICE_HINTS = frozenset(
    {"image", "build", "command", "ports", "links", "environment", "volumes", "extends",
     "entrypoint", "env_file", "expose", "depends_on", "container_name", "restart", "net",
     "volumes_from", "external_links", "healthcheck", "labels", "working_dir", "user"}
)  # fmt: skip


def check_not_legacy(parsed: ParsedFile) -> None:
    """No ``services:`` but service-like mappings at the top level: the legacy v1 format."""
    tree = parsed.tree
    if "services" in tree:
        return
    for key, value in tree.items():
        if key in TOP_LEVEL_KEYS or key.startswith("x-"):
            continue
        if isinstance(value, dict) and (not value or _SERVICE_HINTS & value.keys()):
            mark = parsed.source_map.locate((key,))
            where = f"{mark}: " if mark else f"{parsed.name}: "
            raise UserError(
                f'{where}"{key}" is at the top level: this is the legacy Compose v1 file format, '
                "which is not supported",
                hint="put the services under a top-level `services:` key (Compose Specification)",
            )


def drop_version(parsed: ParsedFile, warnings: list[str]) -> None:
    if "version" in parsed.tree:
        del parsed.tree["version"]
        warnings.append(
            f"{parsed.name}: the attribute `version` is obsolete, it will be ignored, "
            "please remove it to avoid potential confusion"
        )
