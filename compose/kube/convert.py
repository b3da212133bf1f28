"""The conversion, as a list of named steps: model + facts + options → manifests + warnings."""

from __future__ import annotations

from dataclasses import dataclass

from compose.errors import KubeConversionError, UnknownServiceError
from compose.kube.depends import order_warning
from compose.kube.facts import Facts
from compose.kube.keys import warn_unmapped
from compose.kube.names import Names
from compose.kube.netpol import network_policies
from compose.kube.objects import Manifest, ref, sort_key
from compose.kube.options import KubeOptions
from compose.kube.report import Report, service_subject
from compose.kube.services import services_for
from compose.kube.storage import plan_storage
from compose.kube.units import Unit, plan_units
from compose.kube.workload import workload
from compose.model import Network, Stack


@dataclass(frozen=True)
class Conversion:
    objects: tuple[Manifest, ...]  # in output order
    warnings: tuple[str, ...]
    external: frozenset[tuple[str, str]]  # (kind, name) the manifests use but do not create


def convert(
    stack: Stack, options: KubeOptions, facts: Facts, services: tuple[str, ...] = ()
) -> Conversion:
    stack = select(stack, services)
    report, names = Report(), Names()
    units = plan_units(stack, facts, names, report, options)
    storage = plan_storage(stack, units, facts, names, report, options)
    if storage.problems:
        raise KubeConversionError(storage.problems)
    objects = list(storage.objects)
    for unit in units.values():
        warn_unmapped(unit.service, report)
        image = image_of(unit, stack.name, report)
        objects += services_for(unit, stack.name, names, report, options)
        pod = storage.pods[unit.service.name]
        objects.append(workload(unit, units, stack.name, image, pod, facts, report, options))
    objects += _networks(stack, units, names, report, options)
    _stack_warnings(stack, units, report, options)
    names.raise_collisions()
    _unique(objects)
    if options.strict and report.warnings:
        raise KubeConversionError(
            report.warnings, hint="--strict makes every warning an error; drop it to convert"
        )
    return Conversion(
        tuple(sorted(objects, key=sort_key)), tuple(report.warnings), frozenset(storage.external)
    )


def select(stack: Stack, services: tuple[str, ...]) -> Stack:
    """Only the named services and what they depend on (all when none is named)."""
    if not services:
        return stack
    from compose.model.refs import reachable, service_edges

    unknown = [name for name in services if name not in stack.services]
    if unknown:
        raise UnknownServiceError(f'no such service: "{unknown[0]}"')
    keep = reachable(services, service_edges(stack.services.values()))
    kept = {name: svc for name, svc in stack.services.items() if name in keep}
    return stack.model_copy(update={"services": kept})


def image_of(unit: Unit, project: str, report: Report) -> str:
    """``image``, else the name ``build:`` would tag, which the cluster must be able to pull."""
    service = unit.service
    if service.image:
        return service.image
    image = f"{service.image_name(project)}:latest"
    report.warn(
        service_subject(service.name),
        f'is built, not pulled: push "{image}" to a registry the cluster pulls from and set '
        "image: (or convert with --push REGISTRY)",
    )
    return image


def _networks(
    stack: Stack, units: dict[str, Unit], names: Names, report: Report, options: KubeOptions
) -> list[Manifest]:
    if options.network_policies:
        return network_policies(units, stack.name, options)
    used = sorted({n for u in units.values() for n in u.service.networks})
    if len(used) > 1:
        shown = ", ".join(f'"{n}"' for n in used)
        report.warn(
            "networks",
            f"{shown} are not isolated in Kubernetes, every pod reaches every Service "
            "(--network-policies emits NetworkPolicies)",
        )
    return []


def _stack_warnings(
    stack: Stack, units: dict[str, Unit], report: Report, options: KubeOptions
) -> None:
    note = order_warning(units, options.wait_init)
    if note:
        report.warn("depends_on", note)
    used = {n for u in units.values() for n in u.service.networks}
    for key in sorted(used):
        network = stack.networks.get(key)
        for field in _network_keys(network) if network is not None else ():
            report.unmapped(f'network "{key}"', field)
    if stack.models:
        report.unmapped("stack", "models")


_NETWORK_KEYS = ("driver_opts", "ipam", "internal", "attachable", "enable_ipv4", "enable_ipv6")


def _network_keys(network: Network) -> list[str]:
    """Network options that shape a Docker bridge, which a cluster network has no knob for."""
    keys = [k for k in _NETWORK_KEYS if k in network.model_fields_set]
    if network.driver not in (None, "bridge", "overlay"):
        keys.insert(0, "driver")
    return keys


def _unique(objects: list[Manifest]) -> None:
    """A last guard: two objects of one kind never share a name."""
    seen: set[tuple[str, str]] = set()
    twice = []
    for obj in objects:
        key = ref(obj)
        if key in seen:
            twice.append(f'two {key[0]} objects are named "{key[1]}"')
        seen.add(key)
    if twice:
        raise KubeConversionError(twice, hint="rename one of the compose objects they come from")
