from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from compose.cli.commands._project import project_name

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Output events as JSON lines.")
@click.option("--since", type=float, default=None, help="Unix timestamp.")
@click.option("--until", type=float, default=None, help="Unix timestamp (stop following).")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    services: tuple[str, ...],
    as_json: bool,
    since: float | None,
    until: float | None,
) -> None:
    """Receive real time events from containers (follows until Ctrl-C or --until)."""
    from compose.supervisor.run import events_path

    path = events_path(project_name(obj))
    offset = 0
    while True:
        offset = _emit(path, offset, services, as_json, since, until)
        if until is not None and until <= time.time():
            return
        time.sleep(0.2)


def _emit(
    path: Path,
    offset: int,
    services: tuple[str, ...],
    as_json: bool,
    since: float | None,
    until: float | None,
) -> int:
    try:
        with open(path) as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return offset
    complete, _, _ = data.rpartition("\n")
    for line in filter(None, complete.split("\n")):
        event = json.loads(line)
        if services and event.get("service") not in services:
            continue
        if (since and event["time"] < since) or (until and event["time"] > until):
            continue
        click.echo(line if as_json else _text(event))
    return offset + len(complete) + (1 if complete else 0)


def _text(event: dict[str, Any]) -> str:
    stamp = datetime.fromtimestamp(event["time"], UTC).isoformat()
    extra = f" (exitCode={event['exit_code']})" if "exit_code" in event else ""
    return f"{stamp} container {event['action']} {event['container']}{extra}"
