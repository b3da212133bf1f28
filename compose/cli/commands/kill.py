from __future__ import annotations

import signal as signals
from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client, needs_root, report

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


def parse_signal(text: str) -> int:
    if text.isdigit():
        return int(text)
    name = text.upper() if text.upper().startswith("SIG") else f"SIG{text.upper()}"
    try:
        return int(getattr(signals, name))
    except AttributeError:
        raise click.BadParameter(f"unknown signal {text!r}", param_hint="-s") from None


@click.command()
@click.argument("services", nargs=-1)
@click.option("-s", "--signal", "sig", default="SIGKILL", help="Signal to send.")
@click.option("--remove-orphans", is_flag=True, help="(accepted)")
@click.pass_obj
def command(
    obj: GlobalOptions, /, services: tuple[str, ...], sig: str, remove_orphans: bool
) -> None:
    """Force stop service containers (send a signal)."""
    needs_root(obj, "kill")
    report(client(obj).kill(services, parse_signal(sig)))
