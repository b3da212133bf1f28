"""plan_up / plan_down: desired + observed → Plan. Pure functions over plain data."""

from __future__ import annotations

import re
from collections.abc import Iterable

from compose import limits
from compose.errors import UserError
from compose.order import flat
from compose.planner.actions import (
    STOPPED,
    CreateReplica,
    EnsureNetwork,
    EnsureVolume,
    KeepReplica,
    Plan,
    RecreateReplica,
    RemoveNetwork,
    RemoveReplica,
    RemoveVolume,
    ReplicaAction,
    RestartReplica,
    ServiceStep,
    StartReplica,
    StopReplica,
    Wait,
)
from compose.planner.desired import DesiredProject, DesiredService, DownOptions, UpOptions
from compose.state.observe import ObservedProject, ObservedReplica
from compose.state.records import container_name

_ANON = re.compile(r"[0-9a-f]{64}")

ORPHAN_HINT = (
    "If you removed or renamed this service in your compose file, you can run this command "
    "with the --remove-orphans flag to clean it up."
)


def selected_services(desired: DesiredProject, services: Iterable[str], no_deps: bool) -> list[str]:
    """The services to act on: the named ones plus (unless no_deps) their dependencies."""
    chosen = list(services) or desired.names
    if no_deps:
        return [n for n in desired.names if n in chosen]
    todo, seen = list(chosen), set(chosen)
    while todo:
        for dep in desired.service(todo.pop()).depends_on:
            if dep.target not in seen and dep.target in desired.names:
                seen.add(dep.target)
                todo.append(dep.target)
    return [n for n in desired.names if n in seen]


def plan_up(desired: DesiredProject, observed: ObservedProject, options: UpOptions) -> Plan:
    names = selected_services(desired, options.services, options.no_deps)
    steps: dict[str, ServiceStep] = {}
    recreated: set[str] = set()
    for svc in map(desired.service, names):  # in dependency order, as desired.services
        actions = _plan_service(desired, svc, observed, options, recreated)
        if any(isinstance(a, RecreateReplica) for a in actions):
            recreated.add(svc.name)
        steps[svc.name] = ServiceStep(svc.name, tuple(actions), _up_waits(svc, names))
    teardown, warnings = _orphans(desired, observed, options.remove_orphans)
    counts = {} if options.no_start else {n: _want(desired.service(n), options) for n in names}
    return Plan(_setup(desired, observed, names), tuple(steps.values()), teardown, warnings, counts)


def _want(svc: DesiredService, options: UpOptions) -> int:
    want = options.scale.get(svc.name, svc.replicas)
    too_many = limits.replicas_problem(svc.name, want)
    if too_many:
        raise UserError(too_many, hint=limits.hint(limits.REPLICAS))
    if svc.container_name and want > 1:
        raise UserError(
            f'service "{svc.name}": container_name "{svc.container_name}" is set; '
            f"it cannot be scaled to {want} replicas",
            hint="remove container_name to run several replicas",
        )
    return want


def _up_waits(svc: DesiredService, names: list[str]) -> tuple[Wait, ...]:
    deps = [d for d in svc.depends_on if d.target in names]
    return tuple(Wait(d.target, d.condition, d.required) for d in deps)


def _setup(
    desired: DesiredProject, observed: ObservedProject, names: list[str]
) -> tuple[EnsureNetwork | EnsureVolume, ...]:
    """The networks and volumes the services use; those the project made already are ensured
    again (cheap, idempotent) but marked ``exists``: nothing to show."""
    used = [desired.service(n) for n in names]
    nets = sorted({k for s in used for k in s.networks})
    vols = sorted({k for s in used for k in s.volumes})
    record = observed.project
    made_nets = {n.full_name for n in record.networks} if record else set()
    made_vols = set(record.volumes) if record else set()
    return (
        *(
            EnsureNetwork(k, name, desired.networks.get(k, False), name in made_nets)
            for k in nets
            for name in [desired.network_name(k)]
        ),
        *(
            EnsureVolume(k, name, desired.volumes.get(k, False), name in made_vols)
            for k in vols
            for name in [desired.volume_name(k)]
        ),
    )


def _plan_service(
    desired: DesiredProject,
    svc: DesiredService,
    observed: ObservedProject,
    options: UpOptions,
    recreated: set[str],
) -> list[ReplicaAction]:
    want = _want(svc, options)
    existing = sorted(observed.of_service(svc.name), key=lambda r: r.index)
    # staging leftovers, and creations a crash cut short (their index is made anew)
    stale = [r for r in existing if r.name != _name(desired, svc, r.index) or not r.record.made]
    existing = [r for r in existing if r not in stale]
    keep, extra = existing[:want], existing[want:]
    actions: list[ReplicaAction] = []
    for rep in [*stale, *reversed(extra)]:  # leftovers; scale down: highest first
        actions += _remove(rep)
    restart_upstream = any(d.restart and d.target in recreated for d in svc.depends_on)
    for rep in keep:
        actions += _converge(svc, rep, options, restart_upstream)
    for index in free_indexes({r.index for r in keep}, want - len(keep)):
        name = _name(desired, svc, index)
        actions.append(CreateReplica(svc.name, index, name))
        if not options.no_start:
            actions.append(StartReplica(svc.name, index, name))
    return actions


def _name(desired: DesiredProject, svc: DesiredService, index: int) -> str:
    return container_name(desired.name, svc.name, index, svc.container_name)


def free_indexes(used: set[int], count: int) -> list[int]:
    """The ``count`` lowest indexes not in ``used`` (new replicas take the lowest free)."""
    free: list[int] = []
    index = 1
    while len(free) < count:
        if index not in used:
            free.append(index)
        index += 1
    return free


def _converge(
    svc: DesiredService, rep: ObservedReplica, options: UpOptions, restart_upstream: bool
) -> list[ReplicaAction]:
    args = (rep.service, rep.index, rep.name)
    if _must_recreate(svc, rep, options):
        renew = options.renew_anon_volumes
        first = svc.start_first and rep.running  # a stopped one serves nobody meanwhile
        return [RecreateReplica(*args, start_first=first, renew=renew)]
    if options.no_start:
        return []
    if not rep.running:
        return [StartReplica(*args)]
    if restart_upstream:
        return [RestartReplica(*args)]
    return [KeepReplica(*args)]


def _must_recreate(svc: DesiredService, rep: ObservedReplica, options: UpOptions) -> bool:
    """``--force-recreate`` recreates the named services (all when none is named), and
    ``--always-recreate-deps`` their dependencies (docker compose's two strategies); ``-V``
    recreates with fresh anonymous volumes."""
    named = not options.services or svc.name in options.services
    if options.renew_anon_volumes or (
        options.force_recreate if named else options.always_recreate_deps
    ):
        return True
    if options.no_recreate:
        return False
    return bool(svc.config_hash) and rep.record.config_hash != svc.config_hash


def _remove(rep: ObservedReplica) -> list[ReplicaAction]:
    args = (rep.service, rep.index, rep.name)
    return [StopReplica(*args), RemoveReplica(*args)] if rep.running else [RemoveReplica(*args)]


def _orphans(
    desired: DesiredProject, observed: ObservedProject, remove: bool
) -> tuple[tuple[ReplicaAction, ...], tuple[str, ...]]:
    orphans = [
        r for r in observed.replicas if r.service not in desired.names and not r.record.oneoff
    ]
    if not orphans:
        return (), ()
    if remove:
        return tuple(a for r in orphans for a in _remove(r)), ()
    names = ", ".join(r.name for r in orphans)
    return (), (f"Found orphan containers ([{names}]) for this project. {ORPHAN_HINT}",)


def plan_down(
    desired: DesiredProject | None, observed: ObservedProject, options: DownOptions
) -> Plan:
    """Stop and remove replicas in reverse dependency order, then networks (and volumes)."""
    known = set(desired.names) if desired else set()
    chosen = set(options.services) or None
    by_service: dict[str, list[ObservedReplica]] = {}
    for rep in observed.replicas:
        orphan = desired is not None and rep.service not in known
        if (chosen is None or rep.service in chosen) and (
            not orphan or options.remove_orphans or rep.record.oneoff
        ):
            by_service.setdefault(rep.service, []).append(rep)
    order, needs = _needs(desired, observed)
    steps = tuple(
        ServiceStep(
            svc,
            tuple(a for r in sorted(reps, key=lambda r: -r.index) for a in _remove(r)),
            _down_waits(needs, svc, by_service),
        )
        for svc, reps in _dependents_first(order, by_service)
    )
    teardown = () if chosen else _down_teardown(desired, observed, options)
    warnings = (
        () if desired is None or options.remove_orphans else _orphans(desired, observed, False)[1]
    )
    zero = {s: 0 for s in (chosen or by_service.keys() | known)}
    return Plan((), steps, teardown, warnings, zero)


Needs = dict[str, tuple[str, ...]]  # service -> the services it depends on


def _needs(desired: DesiredProject | None, observed: ObservedProject) -> tuple[list[str], Needs]:
    """(services in dependency order, what each needs): from the file, else from what the last
    `up` recorded (docker compose keeps depends_on in a label for the same purpose)."""
    if desired is not None:
        needs = {s.name: tuple(d.target for d in s.depends_on) for s in desired.services}
        return desired.names, needs
    needs = dict(observed.project.dependencies) if observed.project else {}
    return flat(needs), needs


def _dependents_first(
    order: list[str], by_service: dict[str, list[ObservedReplica]]
) -> list[tuple[str, list[ObservedReplica]]]:
    """Reverse dependency order, so the plan reads as it runs: a service's steps come after
    those of everything that depends on it. Services the order doesn't know (orphans,
    one-offs) come first."""
    rank = {name: i for i, name in enumerate(order)}
    return sorted(by_service.items(), key=lambda item: (-rank.get(item[0], len(rank)), item[0]))


def _down_waits(
    needs: Needs, service: str, stopping: dict[str, list[ObservedReplica]]
) -> tuple[Wait, ...]:
    dependents = sorted(n for n, ds in needs.items() if service in ds and n in stopping)
    return tuple(Wait(n, STOPPED) for n in dependents)


def _down_teardown(
    desired: DesiredProject | None, observed: ObservedProject, options: DownOptions
) -> tuple[RemoveNetwork | RemoveVolume, ...]:
    record = observed.project
    nets = [n for n in (record.networks if record else ()) if not n.external]
    actions: list[RemoveNetwork | RemoveVolume] = [RemoveNetwork(n.name, n.full_name) for n in nets]
    if options.remove_volumes:
        names = _project_volumes(desired, observed) + anonymous_volumes(observed.replicas)
        actions += [RemoveVolume(v, v) for v in names]
    return tuple(actions)


def anonymous_volumes(replicas: Iterable[ObservedReplica]) -> list[str]:
    """The anonymous volumes these replicas mount; `down -v` and `rm -v` remove them, plain
    `down`/`rm` keep them."""
    return sorted({v for rep in replicas for v in anonymous_mounts(rep.record.mounts).values()})


def anonymous_mounts(mounts: Iterable[str]) -> dict[str, str]:
    """target -> volume of the anonymous volumes among a record's ``source:target`` mounts:
    ``<volumes>/<64 hex>/_data`` (``compose.volumes`` names them so)."""
    found = {}
    for mount in mounts:
        source, _, target = mount.partition(":")
        parts = source.rsplit("/", 2)
        if len(parts) == 3 and parts[2] == "_data" and _ANON.fullmatch(parts[1]):
            found[target] = parts[1]
    return found


def _project_volumes(desired: DesiredProject | None, observed: ObservedProject) -> list[str]:
    names = set(observed.project.volumes) if observed.project else set()
    if desired is not None:
        names |= {desired.volume_name(k) for k, ext in desired.volumes.items() if not ext}
    return sorted(names)


def plan_stop(
    desired: DesiredProject | None, observed: ObservedProject, services: Iterable[str] = ()
) -> Plan:
    """Stop (not remove) running replicas, dependents first; `stop` and Ctrl-C use it."""
    chosen = set(services) or None
    by_service: dict[str, list[ObservedReplica]] = {}
    for rep in observed.replicas:
        if rep.running and not rep.record.oneoff and (chosen is None or rep.service in chosen):
            by_service.setdefault(rep.service, []).append(rep)
    order, needs = _needs(desired, observed)
    steps = tuple(
        ServiceStep(
            svc,
            tuple(
                StopReplica(r.service, r.index, r.name)
                for r in sorted(reps, key=lambda r: -r.index)
            ),
            _down_waits(needs, svc, by_service),
        )
        for svc, reps in _dependents_first(order, by_service)
    )
    return Plan((), steps)
