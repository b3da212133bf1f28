"""`pycompose scale SERVICE=NUM ...`: a running supervisor changes the counts its loop keeps;
with none, the change is planned and applied here (replicas then run unsupervised until the
next `up`, which adopts them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client, needs_root, report

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


def parse_counts(values: tuple[str, ...]) -> dict[str, int]:
    out = {}
    for item in values:
        name, sep, count = item.partition("=")
        if not sep or not name or not count.isdigit():
            raise click.BadParameter(f"{item!r}: expected SERVICE=NUM", param_hint="SERVICE=NUM")
        out[name] = int(count)
    return out


@click.command()
@click.argument("counts", nargs=-1, required=True)
@click.option("--no-deps", is_flag=True, help="Don't start linked services.")
@click.option("--timeout", type=float, default=None, help="Seconds to wait for convergence.")
@click.pass_obj
def command(
    obj: GlobalOptions, /, counts: tuple[str, ...], no_deps: bool, timeout: float | None
) -> None:
    """Scale services (SERVICE=NUM ...)."""
    needs_root(obj, "scale")
    report(client(obj).scale(parse_counts(counts), no_deps, timeout))
