from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from compose.cli.commands._project import client

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Output events as JSON lines.")
@click.option("--since", default=None, help="Unix time, RFC 3339 date/time or duration (10m).")
@click.option("--until", default=None, help="As --since; stop following then.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    services: tuple[str, ...],
    as_json: bool,
    since: str | None,
    until: str | None,
) -> None:
    """Receive real time events from containers (follows until Ctrl-C or --until)."""
    from compose.cli.commands.logs import moment
    from compose.state.events import EventLog

    project = client(obj)
    project.check_services(services)
    start, end = moment(since, "--since"), moment(until, "--until")
    log = EventLog(project.name)
    offset = 0
    while True:
        lines, offset = log.read_from(offset)
        for line in lines:
            event = line.event
            if services and event.get("service") not in services:
                continue
            if (start and event["time"] < start) or (end and event["time"] > end):
                continue
            click.echo(line.text if as_json else _text(event))
        if end is not None and end <= time.time():
            return
        time.sleep(0.2)


def _text(event: dict[str, Any]) -> str:
    stamp = datetime.fromtimestamp(event["time"], UTC).isoformat()
    extra = f" (exitCode={event['exit_code']})" if "exit_code" in event else ""
    return f"{stamp} container {event['action']} {event['container']}{extra}"
