"""`up`'s published-port check, before anything is created: a host port the plan's replicas
publish must not be held by another program or another project. Docker finds out when it starts
the container and leaves that container and its network behind; here nothing is made.

Ports this project publishes already (its running replicas: the supervisor's own proxy and
DNAT tables hold them) are not conflicts, so a second `up`, a recreation or a restart passes.
"""

from __future__ import annotations

import netplug
from compose.errors import NetworkSetupError
from compose.planner.actions import CreateReplica, Plan, RecreateReplica, StartReplica
from compose.planner.stack import DEFAULT_NETWORK
from compose.state import PAUSED, RUNNING
from compose.supervisor.machine.context import Context

Key = tuple[str, int, str]  # (host_ip, host port, protocol)
STARTS = (CreateReplica, RecreateReplica, StartReplica)


def check_plan_ports(ctx: Context, plan: Plan) -> None:
    """Raise NetworkSetupError naming the service and docker's "port is already allocated"."""
    held = held_ports(ctx)
    own = own_networks(ctx)
    for service, keys in wanted_ports(ctx, plan).items():
        bindings = [netplug.PortBinding(port, "", 0, proto, ip) for ip, port, proto in keys - held]
        try:
            netplug.check_ports_free(bindings, own_networks=own)
        except netplug.PortInUseError as exc:
            raise NetworkSetupError(f'service "{service}": {exc}', hint=exc.hint) from exc


def wanted_ports(ctx: Context, plan: Plan) -> dict[str, set[Key]]:
    """service -> the host ports its replicas created or started by ``plan`` publish."""
    from compose.supervisor.machine.replicas import port_records

    out: dict[str, set[Key]] = {}
    for step in plan.services:
        svc = ctx.stack.services.get(step.service) if ctx.stack is not None else None
        for action in step.actions:
            if svc is None or not isinstance(action, STARTS):
                continue
            for port in port_records(svc, action.index):
                if port.published:
                    key = (port.host_ip, port.published, port.protocol)
                    out.setdefault(step.service, set()).add(key)
    return out


def held_ports(ctx: Context) -> set[Key]:
    """Host ports the project's live replicas publish now."""
    return {
        (p.host_ip, p.published, p.protocol)
        for record in ctx.store.replicas()
        if record.status in (RUNNING, PAUSED)
        for p in record.ports
        if p.published
    }


def own_networks(ctx: Context) -> list[netplug.NetworkConfig]:
    record = ctx.store.load_project()
    recorded = [n.name for n in record.networks] if record is not None else []
    stacked = list(ctx.stack.networks) if ctx.stack is not None else []
    return [ctx.network_config(key) for key in sorted({DEFAULT_NETWORK, *stacked, *recorded})]
