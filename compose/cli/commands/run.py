from __future__ import annotations

import secrets
import sys
import time
from typing import TYPE_CHECKING, Any

import click

from compose.cli.commands._project import CliOutput, load_dict, load_project, needs_root

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.model import PortMapping, Service
    from compose.project import Project
    from compose.supervisor.machine.linux import LinuxDriver


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("service")
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
@click.option("--rm", "remove", is_flag=True, help="Remove the container when it exits.")
@click.option("-d", "--detach", is_flag=True, help="Run in the background, print the name.")
@click.option("-e", "--env", "env", multiple=True, help="KEY=VALUE")
@click.option("--entrypoint", default=None, help="Override the entrypoint.")
@click.option("--name", default=None, help="Container name.")
@click.option("--no-deps", is_flag=True, help="Don't start linked services.")
@click.option("-T", "--no-tty", "no_tty", is_flag=True, help="Don't allocate a pseudo-TTY.")
@click.option(
    "-i/-I", "--interactive/--no-interactive", default=True, help="Keep STDIN open (default)."
)
@click.option("-P", "--service-ports", is_flag=True, help="Publish the service's ports.")
@click.option("-p", "--publish", multiple=True, help="[IP:]HOST:CONTAINER[/PROTO] to publish.")
@click.option("-u", "--user", default=None)
@click.option("-w", "--workdir", default=None)
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    service: str,
    argv: tuple[str, ...],
    remove: bool,
    detach: bool,
    env: tuple[str, ...],
    entrypoint: str | None,
    name: str | None,
    no_deps: bool,
    no_tty: bool,
    interactive: bool,
    service_ports: bool,
    publish: tuple[str, ...],
    user: str | None,
    workdir: str | None,
) -> None:
    """Run a one-off command on a service (stdin attached; a TTY when stdin is a terminal)."""
    needs_root(obj, "run")
    project = load_project(obj, (service,))
    if not no_deps:
        _start_dependencies(obj, project, service)
    svc = _override(
        project.stack.services[service], argv, env, entrypoint, service_ports, user, workdir
    )
    if publish:
        svc = svc.model_copy(update={"ports": [*svc.ports, *map(_port, publish)]})
    tty = not no_tty and not detach and sys.stdin.isatty()
    svc = svc.model_copy(update={"tty": tty, "stdin_open": interactive and not detach})
    name = name or f"{project.name}-{service}-run-{secrets.token_hex(6)}"
    code = _run_oneoff(project, svc, name, detach, remove)
    if code:
        raise click.exceptions.Exit(code)


def _start_dependencies(obj: GlobalOptions, project: Project, service: str) -> None:
    from compose.planner import UpOptions
    from compose.project import start_detached
    from compose.supervisor.options import RunOptions

    deps = tuple(sorted(project.graph.dependencies(service, transitive=True)))
    if deps:
        up = UpOptions(services=deps)
        if start_detached(load_dict(obj, project.stack), up, RunOptions(detach=True), CliOutput()):
            raise click.exceptions.Exit(1)


def _port(text: str) -> PortMapping:
    """`-p [IP:]HOST:CONTAINER[/PROTO]` → a model PortMapping."""
    from compose.model import PortMapping

    spec, _, proto = text.partition("/")
    parts = spec.rsplit(":", 2)
    if len(parts) < 2:
        raise click.BadParameter(f"{text!r}: expected [IP:]HOST:CONTAINER", param_hint="-p")
    host_ip = parts[0] if len(parts) == 3 else None
    return PortMapping(
        target=int(parts[-1]), published=parts[-2], protocol=proto or "tcp", host_ip=host_ip
    )


def _override(
    svc: Service,
    argv: tuple[str, ...],
    env: tuple[str, ...],
    entrypoint: str | None,
    service_ports: bool,
    user: str | None,
    workdir: str | None,
) -> Service:
    import shlex

    update: dict[str, Any] = {"ports": svc.ports if service_ports else [], "container_name": None}
    if argv:
        update["command"] = list(argv)
    if entrypoint is not None:
        update["entrypoint"] = shlex.split(entrypoint)
    if env:
        update["environment"] = {
            **svc.environment,
            **dict(e.split("=", 1) for e in env if "=" in e),
        }
    if user:
        update["user"] = user
    if workdir:
        update["working_dir"] = workdir
    return svc.model_copy(update=update)


def _run_oneoff(project: Project, svc: Service, name: str, detach: bool, remove: bool) -> int:
    from compose.planner.actions import EnsureNetwork
    from compose.planner.stack import service_networks
    from compose.supervisor.machine.linux import LinuxDriver
    from compose.supervisor.run import ensure_images

    images = ensure_images(project.stack, [svc.name], "missing", CliOutput())
    driver = LinuxDriver(project.name, project.stack, images)
    driver.warm()
    for key in service_networks(svc):
        driver.networks.ensure(EnsureNetwork(key, driver.ctx.network_config(key).key))
    if detach:
        driver.replicas.create_named(svc, 1, name, oneoff=True)
        driver.replicas.start(name)
        click.echo(name)
        return 0
    from compose.cli.commands import _attach

    stdio = _attach.stdio(svc.stdin_open)
    driver.replicas.create_named(svc, 1, name, oneoff=True, stdio=stdio)
    try:
        code = _attached(driver, name, svc.tty)
    finally:
        if remove:
            driver.replicas.remove(name)
            _remove_anonymous_volumes(svc, name)
    return code


def _remove_anonymous_volumes(svc: Service, name: str) -> None:
    """``--rm`` takes the container's anonymous volumes with it (as docker's)."""
    from compose.volumes import anonymous_volume, remove_volume

    for vol in svc.volumes:
        if vol.type == "volume" and not vol.source:
            remove_volume(anonymous_volume(name, vol.target))


def _attached(driver: LinuxDriver, name: str, tty: bool) -> int:
    """Start the container with the caller's terminal attached; its exit code."""
    from compose.cli.commands import _attach
    from compose.supervisor.machine.replicas import handle_of

    handle = handle_of(driver.ctx.record(name))
    if tty:
        _attach.copy_winsize(handle.pid)
    with (
        _attach.forwarding(lambda sig: driver.ctx.runtime.kill(handle, sig), handle.pid, tty),
        _attach.raw_terminal(tty),
    ):
        driver.replicas.start(name)
        code = driver.replicas.exit_code(handle)
    driver.ctx.store.save_replica(
        driver.ctx.record(name).replace(status="exited", exit_code=code, finished_at=time.time())
    )
    return code or 0
