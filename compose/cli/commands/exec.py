from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client, needs_root

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("service")
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("-d", "--detach", is_flag=True, help="Run the command in the background.")
@click.option("-T", "--no-tty", "no_tty", is_flag=True, help="Don't allocate a TTY.")
@click.option("-i", "--interactive", is_flag=True, hidden=True, help="(the default)")
@click.option("-t", "--tty", is_flag=True, hidden=True, help="(the default on a terminal)")
@click.option("-e", "--env", "env", multiple=True, help="KEY=VALUE")
@click.option("-u", "--user", default=None)
@click.option("-w", "--workdir", default=None)
@click.option("--index", type=int, default=None, help="Replica index (default 1).")
@click.option("--privileged", is_flag=True, help="(not supported: warns, runs unprivileged)")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    service: str,
    argv: tuple[str, ...],
    detach: bool,
    no_tty: bool,
    env: tuple[str, ...],
    user: str | None,
    workdir: str | None,
    index: int | None,
    privileged: bool,
    interactive: bool,
    tty: bool,
) -> None:
    """Execute a command in a running container."""
    needs_root(obj, "exec")
    if privileged:
        from compose.cli.loading import show_warnings

        show_warnings(
            ["exec --privileged is not supported: the command gets the container's own privileges"]
        )
    tty = not no_tty and sys.stdin.isatty() and sys.stdout.isatty() and not detach
    project = client(obj)
    project.check_services((service,))
    code = project.exec(
        service, argv, index=index, env=env, user=user, workdir=workdir, tty=tty, detach=detach
    )
    if code:
        raise click.exceptions.Exit(code)
