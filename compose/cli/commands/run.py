from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from compose.cli.commands._build import build_before
from compose.cli.commands._project import CliOutput, client, needs_root

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.model import PortMapping, Service
    from compose.project import OneOff, Output, ProjectClient


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("service")
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
@click.option("--rm", "remove", is_flag=True, help="Remove the container when it exits.")
@click.option("-d", "--detach", is_flag=True, help="Run in the background, print the name.")
@click.option("-e", "--env", "env", multiple=True, help="KEY=VALUE")
@click.option("--entrypoint", default=None, help="Override the entrypoint.")
@click.option("--name", default=None, help="Container name.")
@click.option("--no-deps", is_flag=True, help="Don't start linked services.")
@click.option(
    "-T", "--no-tty", "--no-TTY", "no_tty", is_flag=True, help="Don't allocate a pseudo-TTY."
)
@click.option("--quiet-build", is_flag=True, hidden=True, help="(accepted)")
@click.option(
    "-i/-I", "--interactive/--no-interactive", default=True, help="Keep STDIN open (default)."
)
@click.option("-t", "--tty", is_flag=True, hidden=True, help="A TTY (the default on a terminal).")
@click.option("-v", "--volume", "volumes", multiple=True, help="Bind mount a volume.")
@click.option("-l", "--label", "labels", multiple=True, help="Add or override a label.")
@click.option("--cap-add", multiple=True, help="Add Linux capabilities.")
@click.option("--cap-drop", multiple=True, help="Drop Linux capabilities.")
@click.option("--env-from-file", multiple=True, help="Environment variables from a file.")
@click.option(
    "--pull",
    type=click.Choice(["always", "missing", "never", "policy"]),
    default="policy",
    help="Pull the image before running.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but the command's output.")
@click.option("--quiet-pull", is_flag=True, help="Pull without printing progress.")
@click.option("--remove-orphans", is_flag=True, help="Remove containers of removed services.")
@click.option("--use-aliases", is_flag=True, help="(accepted: a one-off is reached by name)")
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
    **more: Any,
) -> None:
    """Run a one-off command on a service (stdin attached; a TTY when stdin is a terminal)."""
    from compose.project import Silent

    needs_root(obj, "run")
    build_before(obj, (service,), build=build, no_build=False, with_deps=not no_deps)
    project = client(obj, (service,))
    out: Output = Silent() if more["quiet"] else CliOutput(quiet_pull=more["quiet_pull"])
    if not no_deps:
        _start_dependencies(project, service, more["remove_orphans"], out)
    env = (*_env_files(more["env_from_file"]), *env)
    svc = _override(
        project.stack.services[service], argv, env, entrypoint, service_ports, user, workdir
    )
    svc = svc.model_copy(update=_extras(svc, publish, more))
    tty = not no_tty and not detach and sys.stdin.isatty()
    svc = svc.model_copy(update={"tty": tty, "stdin_open": interactive and not detach})
    code = _run_oneoff(project.run(svc, name, _pull(more["pull"]), out), detach, remove)
    if code:
        raise click.exceptions.Exit(code)


def _start_dependencies(
    project: ProjectClient, service: str, remove_orphans: bool, out: Output
) -> None:
    from compose.project import RunOptions, UpOptions

    deps = tuple(sorted(project.dependencies(service)))
    if deps:
        up = UpOptions(services=deps, remove_orphans=remove_orphans)
        project.up(up, RunOptions(detach=True), out)


def _pull(flag: str) -> str | None:
    """``--pull``: a policy for this run's image (``policy``: the service's own)."""
    return None if flag == "policy" else flag


def _extras(svc: Service, publish: tuple[str, ...], more: dict[str, Any]) -> dict[str, Any]:
    """``-p``, ``-v``, ``-l``, ``--cap-add``/``--cap-drop`` onto the service."""
    from compose.model import ServiceVolume
    from compose.stackfile.shortsyntax import parse_volume

    update: dict[str, Any] = {}
    if publish:
        update["ports"] = [*svc.ports, *map(_port, publish)]
    volumes = []
    for spec in more["volumes"]:
        try:
            volumes.append(ServiceVolume.model_validate(parse_volume(spec)))
        except ValueError as exc:
            raise click.BadParameter(f"{spec!r}: {exc}", param_hint="-v") from None
    if volumes:
        targets = {v.target for v in volumes}
        update["volumes"] = [v for v in svc.volumes if v.target not in targets] + volumes
    if more["labels"]:
        pairs = (label.partition("=") for label in more["labels"])
        update["labels"] = {**svc.labels, **{k: v for k, _, v in pairs}}
    if more["cap_add"]:
        update["cap_add"] = [*svc.cap_add, *more["cap_add"]]
    if more["cap_drop"]:
        update["cap_drop"] = [*svc.cap_drop, *more["cap_drop"]]
    return update


def _env_files(paths: tuple[str, ...]) -> list[str]:
    """``--env-from-file``: KEY=VALUE lines (the .env syntax)."""
    from compose.stackfile.dotenv import parse_dotenv

    out = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            hint = "--env-from-file"
            raise click.BadParameter(f"{path}: {exc.strerror}", param_hint=hint) from None
        out += [f"{k}={v}" for k, v in parse_dotenv(text).items()]
    return out


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
