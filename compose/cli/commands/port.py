from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("service")
@click.argument("private_port", type=int)
@click.option("--protocol", default="tcp", type=click.Choice(["tcp", "udp"]))
@click.option("--index", type=int, default=1, help="Replica index.")
@click.pass_obj
def command(
    obj: GlobalOptions, /, service: str, private_port: int, protocol: str, index: int
) -> None:
    """Print the public port for a port binding."""
    rep = client(obj).replica(service, index)
    for port in rep.record.ports:
        if port.target == private_port and port.protocol == protocol:
            if port.published:
                click.echo(f"{port.host_ip or '0.0.0.0'}:{port.published}")
                return
    raise click.ClickException(f"no port {private_port}/{protocol} published for {rep.name}")
