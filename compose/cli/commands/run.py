from __future__ import annotations

import secrets
import time

import click

from compose.cli.commands._project import CliOutput, load_dict, load_project, needs_root


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("service")
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
@click.option("--rm", "remove", is_flag=True, help="Remove the container when it exits.")
@click.option("-d", "--detach", is_flag=True, help="Run in the background, print the name.")
@click.option("-e", "--env", "env", multiple=True, help="KEY=VALUE")
@click.option("--entrypoint", default=None, help="Override the entrypoint.")
@click.option("--name", default=None, help="Container name.")
@click.option("--no-deps", is_flag=True, help="Don't start linked services.")
@click.option("-T", "--no-tty", "no_tty", is_flag=True, help="(accepted; output is never a TTY)")
@click.option("-P", "--service-ports", is_flag=True, help="Publish the service's ports.")
@click.option("-p", "--publish", multiple=True, help="[IP:]HOST:CONTAINER[/PROTO] to publish.")
@click.option("-u", "--user", default=None)
@click.option("-w", "--workdir", default=None)
@click.pass_obj
def command(
    obj,
    service,
    argv,
    remove,
    detach,
    env,
    entrypoint,
    name,
    no_deps,
    no_tty,
    service_ports,
    publish,
    user,
    workdir,
) -> None:
    """Run a one-off command on a service (stdout/stderr streamed; no stdin)."""
    needs_root(obj, "run")
    project = load_project(obj, (service,))
    if not no_deps:
        _start_dependencies(obj, project, service)
    svc = _override(
        project.stack.services[service], argv, env, entrypoint, service_ports, user, workdir
    )
    if publish:
        svc = svc.model_copy(update={"ports": [*svc.ports, *map(_port, publish)]})
    name = name or f"{project.name}-{service}-run-{secrets.token_hex(6)}"
    code = _run_oneoff(project, svc, name, detach, remove)
    if code:
        raise click.exceptions.Exit(code)


def _start_dependencies(obj, project, service: str) -> None:
    from compose.planner import UpOptions
    from compose.project import start_detached
    from compose.supervisor.run import RunOptions

    deps = tuple(sorted(project.graph.dependencies(service, transitive=True)))
    if deps:
        up = UpOptions(services=deps)
        if start_detached(load_dict(obj, project.stack), up, RunOptions(detach=True), CliOutput()):
            raise click.exceptions.Exit(1)


def _port(text: str):
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


def _override(svc, argv, env, entrypoint, service_ports, user, workdir):
    import shlex

    update: dict = {"ports": svc.ports if service_ports else [], "container_name": None}
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


def _run_oneoff(project, svc, name: str, detach: bool, remove: bool) -> int:
    from compose.supervisor.linux import LinuxDriver
    from compose.supervisor.replica import create_named, remove_replica, start_replica
    from compose.supervisor.run import ensure_images

    images = ensure_images(project.stack, [svc.name], "missing", CliOutput())
    driver = LinuxDriver(project.name, project.stack, images)
    driver.warm()
    from compose.project import service_networks

    driver.ensure_networks_sync(list(service_networks(svc)))
    create_named(driver, svc, 1, name, oneoff=True)
    start_replica(driver, name)
    if detach:
        click.echo(name)
        return 0
    code = _follow(driver, name)
    if remove:
        remove_replica(driver, name)
    return code


def _follow(driver, name: str) -> int:
    from pathlib import Path

    from compose.logs import LogTail
    from compose.state import is_alive
    from compose.supervisor.replica import exit_code, handle_of

    record = driver.replica_record(name)
    tail = LogTail()
    tail.add("run", Path(record.log_path))
    while is_alive(record.pid, record.start_time):
        for line in tail.poll():
            click.echo(line.text, err=line.stream == "stderr")
        time.sleep(0.05)
    code = exit_code(driver, handle_of(record))
    for line in tail.poll():
        click.echo(line.text, err=line.stream == "stderr")
    driver.store.save_replica(
        record.replace(status="exited", exit_code=code, finished_at=time.time())
    )
    return code or 0
