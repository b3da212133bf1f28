"""``pull_policy`` semantics: always | missing (if_not_present) | never | build | daily |
weekly | every_<duration>, like Docker Compose."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from compose.errors import ImageError, UserError
from compose.images.model import Image
from compose.images.store import ImageStore

if TYPE_CHECKING:
    from compose.images.progress import PullProgress

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)([smhdw])")


def refresh_interval(policy: str) -> float | None:
    """Seconds between pulls for daily/weekly/every_<duration>, else None."""
    if policy == "daily":
        return 86400.0
    if policy == "weekly":
        return 604800.0
    if policy.startswith("every_"):
        spec = policy.removeprefix("every_")
        parts = _DURATION.findall(spec)
        if not parts or "".join(a + b for a, b in parts) != spec:
            raise UserError(f"invalid pull_policy {policy!r}", hint="e.g. every_12h, every_1d30m")
        return float(sum(int(n) * _UNITS[u] for n, u in parts))
    return None


def needs_pull(ref: str, policy: str, store: ImageStore, platform: str | None = None) -> bool:
    if policy == "always":
        return True
    if policy in ("never", "build"):
        return False
    present = store.has_platform(ref, platform)
    if policy in ("missing", "if_not_present", ""):
        return not present
    interval = refresh_interval(policy)
    if interval is None:
        raise UserError(
            f"invalid pull_policy {policy!r}",
            hint="use always, missing, never, build, daily, weekly or every_<duration>",
        )
    last = store.last_pull(ref)
    return not present or last is None or time.time() - last >= interval


def ensure_image(
    ref: str,
    *,
    policy: str = "missing",
    store: ImageStore | None = None,
    platform: str | None = None,
    progress: PullProgress | None = None,
) -> Image:
    """The local image for ``ref``, pulled first when ``policy`` asks for it."""
    store = store or ImageStore()
    if needs_pull(ref, policy, store, platform):
        from compose.images.registrypull import pull

        return pull(ref, store=store, platform=platform, progress=progress)
    try:
        return store.resolve(ref, platform)
    except ImageError as exc:
        if policy == "build":
            raise ImageError(
                f"{ref}: the image is not built",
                hint="build it: pycompose build (or up --build)",
            ) from exc
        raise
