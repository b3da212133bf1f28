"""``pycompose stats``: what each replica uses (CPU, memory, network, block I/O, pids), from its
cgroup, in docker's columns and JSON fields; live (redrawn every second) unless ``--no-stream``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from compose.cli.commands._project import client

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.project import Usage
    from compose.state import ObservedReplica

TABLE = (
    "table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}"
    "\\t{{.BlockIO}}\\t{{.PIDs}}"
)
HEADERS = {
    "ID": "CONTAINER ID",
    "Container": "CONTAINER",
    "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT",
    "MemPerc": "MEM %",
    "NetIO": "NET I/O",
    "BlockIO": "BLOCK I/O",
    "PIDs": "PIDS",
}


@click.command()
@click.argument("services", nargs=-1)
@click.option("-a", "--all", "all_replicas", is_flag=True, help="Stopped containers too.")
@click.option("--no-stream", is_flag=True, help="Print one sample and exit.")
@click.option("--no-trunc", is_flag=True, help="Full container IDs.")
@click.option("--format", "fmt", default="table", help="table, json or a Go template.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    services: tuple[str, ...],
    all_replicas: bool,
    no_stream: bool,
    no_trunc: bool,
    fmt: str,
) -> None:
    """Display a live stream of the containers' resource usage."""
    project = client(obj)
    live = not no_stream and sys.stdout.isatty()
    while True:
        rows = [row(rep, used, no_trunc) for rep, used in project.usage(services, all_replicas)]
        if live:
            click.echo("\x1b[2J\x1b[H", nl=False)  # redrawn in place, as docker's
        click.echo(render(fmt, rows))
        if no_stream:
            return


def render(fmt: str, rows: list[dict[str, Any]]) -> str:
    from compose.cli.gotemplate import render as go

    if fmt == "json":
        import json

        return "\n".join(json.dumps(r, separators=(",", ":"), sort_keys=True) for r in rows)
    return go(TABLE if fmt == "table" else fmt, rows, HEADERS)


def row(rep: ObservedReplica, used: Usage | None, no_trunc: bool) -> dict[str, Any]:
    """docker's stats fields, every value a string."""

    ident = rep.record.container_id
    base = {"Container": ident, "ID": ident if no_trunc else ident[:12], "Name": rep.name}
    if used is None:
        zero = {"CPUPerc": "0.00%", "MemUsage": "0B / 0B", "MemPerc": "0.00%"}
        return {**base, **zero, "NetIO": "0B / 0B", "BlockIO": "0B / 0B", "PIDs": "0"}
    return {
        **base,
        "CPUPerc": f"{used.cpu_percent:.2f}%",
        "MemUsage": f"{bytes_size(used.memory)} / {bytes_size(used.memory_limit)}",
        "MemPerc": f"{used.memory_percent:.2f}%",
        "NetIO": f"{human_size(used.net_rx)} / {human_size(used.net_tx)}",
        "BlockIO": f"{human_size(used.block_read)} / {human_size(used.block_write)}",
        "PIDs": str(used.pids),
    }


def bytes_size(size: float) -> str:
    """go-units ``BytesSize``: binary units, 4 significant digits (``888KiB``, ``23.54GiB``)."""
    return _custom(size, 1024.0, ("B", "KiB", "MiB", "GiB", "TiB", "PiB"), 4)


def human_size(size: float, precision: int = 3) -> str:
    """go-units ``HumanSizeWithPrecision(size, precision)``: decimal units (``536B``,
    ``1.23kB``); precision 4 is go-units ``HumanSize`` (``builder prune``'s ``30.92MB``)."""
    return _custom(size, 1000.0, ("B", "kB", "MB", "GB", "TB", "PB"), precision)


def _custom(size: float, base: float, units: tuple[str, ...], precision: int) -> str:
    unit = 0
    while size >= base and unit < len(units) - 1:
        size /= base
        unit += 1
    return f"{size:.{precision}g}{units[unit]}"
