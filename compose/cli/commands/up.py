from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from compose.cli.commands._build import build_before, build_options
from compose.cli.commands._project import CliOutput, client, needs_root

if TYPE_CHECKING:
    from collections.abc import Callable

    from compose.cli.app import GlobalOptions
    from compose.project import ProjectClient


def parse_scale(values: tuple[str, ...]) -> dict[str, int]:
    """``--scale SERVICE=NUM`` (``up``, ``create``)."""
    out = {}
    for item in values:
        name, sep, count = item.partition("=")
        if not sep or not count.isdigit():
            raise click.BadParameter(f"{item!r}: expected SERVICE=NUM", param_hint="--scale")
        out[name] = int(count)
    return out


@click.command()
@click.argument("services", nargs=-1)
@click.option("-d", "--detach", is_flag=True, help="Run in the background (detached supervisor).")
@click.option("--wait", is_flag=True, help="Wait for services to be running/healthy (implies -d).")
@click.option("--wait-timeout", type=float, default=None, help="Max seconds to wait.")
@click.option("--no-deps", is_flag=True, help="Don't start linked services.")
@click.option("--force-recreate", is_flag=True, help="Recreate containers even if unchanged.")
@click.option("--no-recreate", is_flag=True, help="Don't recreate existing containers.")
@click.option("--no-start", is_flag=True, help="Create but don't start.")
@click.option(
    "-V",
    "--renew-anon-volumes",
    is_flag=True,
    help="Recreate anonymous volumes instead of retrieving data from the previous containers.",
)
@click.option(
    "--remove-orphans", is_flag=True, help="Remove containers of services not in the file."
)
@click.option("--pull", type=click.Choice(["always", "missing", "never"]), default="missing")
@click.option("--scale", multiple=True, help="SERVICE=NUM; overrides `scale`/deploy.replicas.")
@click.option("--abort-on-container-exit", is_flag=True, help="Stop all if any container stops.")
@click.option("--abort-on-container-failure", is_flag=True, help="Stop all if one exits non-zero.")
@click.option("--exit-code-from", default=None, help="Return this service's exit code.")
@click.option("-t", "--timeout", type=float, default=None, help="Shutdown timeout in seconds.")
@click.option("--no-log-prefix", is_flag=True)
@click.option("--timestamps", is_flag=True)
@click.option("--no-color", is_flag=True)
@click.option("--attach", multiple=True, help="Show logs of these services only.")
@click.option("--attach-dependencies", is_flag=True, help="Show the dependencies' logs too.")
@click.option("--no-attach", multiple=True, help="Don't show logs of these services.")
@click.option("--always-recreate-deps", is_flag=True, help="Recreate dependent containers.")
@click.option("--quiet-pull", is_flag=True, help="Pull without printing progress.")
@click.option("-w", "--watch", is_flag=True, help="Watch develop.watch paths and sync/rebuild.")
@click.option("-y", "--yes", is_flag=True, help="Assume yes to prompts (pycompose asks none).")
@click.option("--menu", is_flag=True, hidden=True)
@click.option("--quiet-build", is_flag=True, hidden=True, help="(accepted)")
@click.option("--dry-run", "dry_run", is_flag=True, help="Print the plan; change nothing.")
@build_options
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...], **opts: Any) -> None:
    """Create and start containers."""
    from compose.project import RunOptions, UpOptions

    _check(opts)
    dry_run = obj.dry_run or opts["dry_run"]
    if not dry_run:
        needs_root(obj, "up")
    up = UpOptions(
        services=tuple(services), no_deps=opts["no_deps"], force_recreate=opts["force_recreate"],
        no_recreate=opts["no_recreate"], remove_orphans=opts["remove_orphans"],
        no_start=opts["no_start"], scale=parse_scale(opts["scale"]),
        always_recreate_deps=opts["always_recreate_deps"],
        renew_anon_volumes=opts["renew_anon_volumes"],
    )  # fmt: skip
    project = client(obj, services)
    if dry_run:
        click.echo(project.plan_up(up).render())
        return
    build_before(
        obj, services, build=opts["build"], no_build=opts["no_build"], with_deps=not opts["no_deps"]
    )
    # `--wait --exit-code-from tests` (docker compose refuses it): in the foreground, the others
    # waited for first, then the run follows `tests` and returns its exit code
    follow = bool(opts["exit_code_from"]) and not opts["detach"]
    run = RunOptions(
        detach=opts["detach"] or (opts["wait"] and not follow), wait=opts["wait"],
        wait_timeout=opts["wait_timeout"],
        abort_on_container_exit=opts["abort_on_container_exit"],
        exit_code_from=opts["exit_code_from"], stop_timeout=opts["timeout"], pull=opts["pull"],
        no_log_prefix=opts["no_log_prefix"], timestamps=opts["timestamps"],
        color=not opts["no_color"] and obj.color(sys.stdout.isatty()),
        attach=_attached(services, opts),
        no_attach=tuple(opts["no_attach"]),
        abort_on_container_failure=opts["abort_on_container_failure"],
    )  # fmt: skip
    out = CliOutput(quiet_pull=opts["quiet_pull"])
    if opts["watch"]:
        code = _watching(obj, project, services, lambda: project.up(up, run, out), out)
    else:
        code = project.up(up, run, out)
    if code:
        raise click.exceptions.Exit(code)


def _watching(
    obj: GlobalOptions,
    project: ProjectClient,
    services: tuple[str, ...],
    up: Callable[[], int],
    out: CliOutput,
) -> int:
    """``up --watch``: the foreground `up`, its services watched meanwhile."""
    from compose.cli.commands.watch import in_background, watcher_for

    watcher = watcher_for(obj, client(obj, services), services, out)
    thread, stop = in_background(watcher, project)
    try:
        return up()
    finally:
        stop.set()
        thread.join(timeout=5)


def _check(opts: dict[str, Any]) -> None:
    """docker compose's incompatible flags, with its messages."""
    if opts["force_recreate"] and opts["no_recreate"]:
        raise click.UsageError("--force-recreate and --no-recreate are incompatible")
    if opts["always_recreate_deps"] and opts["no_recreate"]:
        raise click.UsageError("--always-recreate-deps and --no-recreate are incompatible")
    if opts["attach"] and opts["attach_dependencies"]:
        raise click.UsageError("--attach and --attach-dependencies are incompatible")
    attached = ("abort_on_container_exit", "abort_on_container_failure", "exit_code_from")
    if opts["detach"] and any(
        opts[k] for k in (*attached, "attach", "attach_dependencies", "watch")
    ):
        raise click.UsageError(
            "--detach cannot be combined with --abort-on-container-exit, "
            "--abort-on-container-failure, --attach, --attach-dependencies, --exit-code-from "
            "or --watch"
        )


def _attached(services: tuple[str, ...], opts: dict[str, Any]) -> tuple[str, ...]:
    """Whose logs a foreground `up` shows: ``--attach``'s, else the services named (their
    dependencies too with ``--attach-dependencies``), else every service."""
    if opts["attach"]:
        return tuple(opts["attach"])
    return () if opts["attach_dependencies"] else tuple(services)
