from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import needs_root, project_name, try_load_stack

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("-t", "--timeout", type=float, default=None, help="Seconds before SIGKILL.")
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...], timeout: float | None) -> None:
    """Stop running containers without removing them."""
    from compose.cli.commands._ops import ask_supervisor, stop_replicas

    needs_root(obj, "stop")
    name = project_name(obj)
    request = {"op": "stop", "services": list(services), "timeout": timeout}
    if ask_supervisor(name, request, "Stopped"):
        return
    stop_replicas(name, tuple(services), timeout, try_load_stack(obj))
