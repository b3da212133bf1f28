"""``pycompose pull`` for a stack: every selected service image, in parallel, by pull_policy.

Failures are collected and reported together, one line each: ``service "web": <ref>: <answer>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from compose.errors import ImageError, ProjectUpError
from compose.images.ensure import needs_pull
from compose.images.progress import PullProgress
from compose.images.store import ImageStore

MAX_PARALLEL_IMAGES = 4


@dataclass(frozen=True, slots=True)
class PullJob:
    service: str
    ref: str
    platform: str | None
    policy: str


def plan_pulls(services: Iterable[Any], policy: str | None, store: ImageStore) -> list[PullJob]:
    """Jobs for services with an image; ``policy`` (the --policy flag) overrides the services'.

    Skipped like docker compose: no image, pull_policy never/build, missing + already present.
    """
    jobs = []
    for svc in services:
        if not svc.image:
            continue
        chosen = policy or svc.pull_policy or "always"
        if chosen in ("never", "build"):
            continue
        if chosen != "always" and not needs_pull(svc.image, chosen, store, svc.platform):
            continue
        jobs.append(PullJob(svc.name, svc.image, svc.platform, chosen))
    return jobs


def run_pulls(
    jobs: list[PullJob], store: ImageStore, progress: PullProgress, *, ignore_failures: bool = False
) -> list[str]:
    """Pull each distinct (image, platform) once; returns the failure lines, one per service
    (raises them as one ProjectUpError unless ``ignore_failures``)."""
    from compose.images.registrypull import pull

    def one(key: tuple[str, str | None]) -> str | None:
        try:
            pull(key[0], store=store, platform=key[1], progress=progress.for_image(key[0]))
        except ImageError as exc:
            return str(exc)
        return None

    keys = list(dict.fromkeys((job.ref, job.platform) for job in jobs))
    with ThreadPoolExecutor(MAX_PARALLEL_IMAGES) as pool:
        errors = dict(zip(keys, pool.map(one, keys), strict=True))
    failures = [
        f'service "{job.service}": {errors[(job.ref, job.platform)]}'
        for job in jobs
        if errors[(job.ref, job.platform)]
    ]
    if failures and not ignore_failures:
        raise ProjectUpError(failures)
    return failures
