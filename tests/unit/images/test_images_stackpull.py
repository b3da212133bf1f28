"""Which service images ``pycompose pull`` fetches, by pull_policy (docker compose's rules)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from compose.images.stackpull import plan_pulls
from compose.images.store import ImageStore


def _svc(name: str, image: str | None, policy: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(name=name, image=image, pull_policy=policy, platform=None)


def test_plan_pulls_by_policy(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    services = [
        _svc("plain", "redis:7"),
        _svc("never", "redis:7", "never"),
        _svc("build", "app:dev", "build"),
        _svc("missing", "python:3.11", "missing"),
        _svc("daily", "busybox", "daily"),
        _svc("built-only", None),
    ]
    jobs = plan_pulls(services, None, store)
    assert [(j.service, j.ref) for j in jobs] == [
        ("plain", "redis:7"),
        ("missing", "python:3.11"),
        ("daily", "busybox"),
    ]
    assert [j.service for j in plan_pulls(services, "always", store)] == [
        "plain",
        "never",
        "build",
        "missing",
        "daily",
    ]
