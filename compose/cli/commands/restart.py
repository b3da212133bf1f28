from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import CliOutput, client, needs_root, report

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("-t", "--timeout", type=float, default=None, help="Seconds before SIGKILL.")
@click.option("--no-deps", is_flag=True, help="(accepted)")
@click.pass_obj
def command(
    obj: GlobalOptions, /, services: tuple[str, ...], timeout: float | None, no_deps: bool
) -> None:
    """Restart containers (does not apply compose-file changes, as docker compose)."""
    needs_root(obj, "restart")
    for reply in client(obj, services).restart(services, timeout, CliOutput()):
        report(reply)
