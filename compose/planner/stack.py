"""Stack → desired state: the one adapter from the compose model to the planner's plain data.

The planner itself (``planner``, ``actions``, ``desired``) never sees the model, so its tests
need nothing but dataclasses; the supervisor and the front door build a ``DesiredProject`` here.
Pure: the images (digests, VOLUMEs) are passed in by whoever looked them up.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from compose import limits
from compose.errors import UnknownServiceError, UserError
from compose.planner.desired import DesiredProject, DesiredService, Need

if TYPE_CHECKING:
    from compose.images import Image
    from compose.model import Service, Stack

DEFAULT_NETWORK = "default"


def service_networks(service: Service) -> tuple[str, ...]:
    """The networks a service's replicas join (none with a ``network_mode``)."""
    if service.network_mode:
        return ()
    return tuple(service.networks) or (DEFAULT_NETWORK,)


def named_volumes(service: Service) -> tuple[str, ...]:
    return tuple(v.source for v in service.volumes if v.type == "volume" and v.source)


def uncovered_image_volumes(image_volumes: Iterable[str], targets: Iterable[str]) -> list[str]:
    """The image's VOLUME paths no service mount covers (Docker: anonymous volumes)."""
    covered = {os.path.normpath(t) for t in targets}
    return [v for v in image_volumes if os.path.normpath(v) not in covered]


def starts_first(service: Service, image_volumes: tuple[str, ...] = ()) -> bool:
    """Does a changed replica's successor start before the replica stops?

    ``deploy.update_config.order`` decides when given. Otherwise start-first (no gap), except
    where two copies can't run side by side: a shared or host network namespace (the ports
    are bound there), a fixed IP or MAC address, or a writable volume, the image's own
    ``VOLUME`` paths included (two databases on one data directory is how data gets
    corrupted; bind mounts don't count)."""
    update = service.deploy.update_config if service.deploy else None
    if update is not None and update.order is not None:
        return update.order == "start-first"
    if service.network_mode or service.mac_address:
        return False
    nets = [n for n in service.networks.values() if n is not None]
    if any(n.ipv4_address or n.ipv6_address or n.mac_address for n in nets):
        return False
    if any(v.type == "volume" and not v.read_only for v in service.volumes):
        return False
    mounted = [v.target for v in service.volumes] + [t.split(":")[0] for t in service.tmpfs]
    return not uncovered_image_volumes(image_volumes, mounted)


def check_services(stack: Stack, names: Iterable[str]) -> None:
    for name in names:
        if name not in stack.services:
            raise UnknownServiceError(f'no such service: "{name}"')


def check_scale(stack: Stack, counts: Mapping[str, int]) -> None:
    """Unknown services, negative counts, and N > 1 where replicas would share a name
    (``container_name``) or an address (a fixed IP or MAC) are user errors."""
    for service, count in counts.items():
        svc = stack.services.get(service)
        if svc is None:
            raise UserError(f'no such service: "{service}"')
        if count < 0:
            raise UserError(f'service "{service}": cannot scale to {count}')
        too_many = limits.replicas_problem(service, count)
        if too_many:
            raise UserError(too_many, hint=limits.hint(limits.REPLICAS))
        unique = _unique_setting(svc)
        if unique and count > 1:
            raise UserError(
                f'service "{service}": {unique} is set; it cannot be scaled to {count} replicas',
                hint=f"remove {unique.split()[0]} to run several replicas",
            )


def _unique_setting(svc: Service) -> str | None:
    """What one replica alone may have: ``container_name "x"``, a fixed address."""
    if svc.container_name:
        return f'container_name "{svc.container_name}"'
    if svc.mac_address:
        return f"mac_address {svc.mac_address}"
    for net, opts in svc.networks.items():
        for key in ("ipv4_address", "ipv6_address", "mac_address"):
            value = getattr(opts, key, None) if opts is not None else None
            if value:
                return f'{key} {value} (network "{net}")'
    return None


def needs(stack: Stack) -> dict[str, tuple[Need, ...]]:
    """Per service, what it needs first (depends_on with its condition, links,
    network_mode/ipc/pid service:, volumes_from), from ``compose.graph``."""
    from compose.graph import service_dependencies

    return {
        name: tuple(Need(t, d.condition, d.required, d.restart) for t, d in sorted(deps.items()))
        for name, deps in service_dependencies(stack).items()
    }


def desired_from_stack(stack: Stack, images: Mapping[str, Image] | None = None) -> DesiredProject:
    """The desired state of ``stack``; ``images``: service → its image where known (its digest
    is part of the config hash; its VOLUMEs decide start-first)."""
    from compose.order import flat
    from compose.planner.hashing import config_hash

    images = images or {}
    wanted = needs(stack)
    order = flat({name: [n.target for n in ns] for name, ns in wanted.items()})
    services = []
    for name in order:
        svc, image = stack.services[name], images.get(name)
        digest = image.digest if image is not None else None
        volumes = tuple(image.config.volumes) if image is not None else ()
        services.append(
            DesiredService(
                name,
                svc.replicas,
                config_hash(svc, digest),
                wanted[name],
                service_networks(svc),
                named_volumes(svc),
                svc.container_name,
                starts_first(svc, volumes),
            )
        )
    return DesiredProject(
        stack.name,
        tuple(services),
        _networks(stack),
        {k: bool(v.external) for k, v in stack.volumes.items()},
        {k: n.name for k, n in stack.networks.items() if n.name},
        {k: v.name for k, v in stack.volumes.items() if v.name},
    )


def _networks(stack: Stack) -> dict[str, bool]:
    nets = {k: bool(n.external) for k, n in stack.networks.items()}
    if any(DEFAULT_NETWORK in service_networks(s) for s in stack.services.values()):
        nets.setdefault(DEFAULT_NETWORK, False)
    return nets
