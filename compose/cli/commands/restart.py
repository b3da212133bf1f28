from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import needs_root, project_name, try_load_stack

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
    from compose.cli.commands._ops import ask_supervisor, stop_replicas
    from compose.cli.commands.start import start

    needs_root(obj, "restart")
    name = project_name(obj)
    request = {"op": "restart", "services": list(services), "timeout": timeout}
    if ask_supervisor(name, request, "Started"):
        return
    stop_replicas(name, tuple(services), timeout, try_load_stack(obj))
    start(obj, tuple(services))
