from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from compose.cli.commands._build import build_before
from compose.cli.commands._project import CliOutput, client, needs_root

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.model import PortMapping, Service
    from compose.project import OneOff, ProjectClient


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
@click.option("--build", is_flag=True, help="Build the image before starting the container.")
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
    build: bool,
) -> None:
    """Run a one-off command on a service (stdin attached; a TTY when stdin is a terminal)."""
    needs_root(obj, "run")
    build_before(obj, (service,), build=build, no_build=False, with_deps=not no_deps)
    project = client(obj, (service,))
    if not no_deps:
        _start_dependencies(project, service)
    svc = _override(
        project.stack.services[service], argv, env, entrypoint, service_ports, user, workdir
    )
    if publish:
        svc = svc.model_copy(update={"ports": [*svc.ports, *map(_port, publish)]})
    tty = not no_tty and not detach and sys.stdin.isatty()
    svc = svc.model_copy(update={"tty": tty, "stdin_open": interactive and not detach})
    code = _run_oneoff(project.run(svc, name), detach, remove)
    if code:
        raise click.exceptions.Exit(code)


def _start_dependencies(project: ProjectClient, service: str) -> None:
    from compose.project import RunOptions, UpOptions

    deps = tuple(sorted(project.dependencies(service)))
    if deps:
        project.up(UpOptions(services=deps), RunOptions(detach=True), CliOutput())


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


def _run_oneoff(oneoff: OneOff, detach: bool, remove: bool) -> int:
    try:
        if detach:
            oneoff.create()
            oneoff.start()
            click.echo(oneoff.name)
            return 0
        from compose.cli.commands import _attach

        pid = oneoff.create(_attach.stdio(oneoff.svc.stdin_open))
        try:
            return _attached(oneoff, pid, oneoff.svc.tty)
        finally:
            if remove:
                oneoff.remove()
    finally:
        oneoff.close()


def _attached(oneoff: OneOff, pid: int, tty: bool) -> int:
    """Start the container with the caller's terminal attached; its exit code."""
    from compose.cli.commands import _attach

    if tty:
        _attach.copy_winsize(pid)
    with _attach.forwarding(oneoff.kill, pid, tty), _attach.raw_terminal(tty):
        oneoff.start()
        code = oneoff.wait()
    return code or 0
