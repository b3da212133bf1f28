from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.logs import Formatter, LogTail
    from compose.project import ProjectClient
    from compose.state import ObservedProject


@click.command()
@click.argument("services", nargs=-1)
@click.option("-f", "--follow", is_flag=True, help="Follow log output.")
@click.option("-n", "--tail", default="all", help="Number of lines from the end (or 'all').")
@click.option("--since", default=None, help="Unix timestamp or relative seconds (e.g. 10s, 5m).")
@click.option("--until", default=None, help="Unix timestamp or relative seconds (e.g. 10s, 5m).")
@click.option("-t", "--timestamps", is_flag=True, help="Show timestamps.")
@click.option("--no-color", is_flag=True, help="Monochrome output.")
@click.option("--no-log-prefix", is_flag=True, help="Don't print the service-N prefix.")
@click.option("--index", type=int, default=None, help="Replica index.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    services: tuple[str, ...],
    follow: bool,
    tail: str,
    since: str | None,
    until: str | None,
    timestamps: bool,
    no_color: bool,
    no_log_prefix: bool,
    index: int | None,
) -> None:
    """View output from containers."""
    from compose.logs import Formatter, LogTail, read_all

    project = client(obj)
    sources = _sources(project.observe(), services, index)
    fmt = Formatter(
        sources,
        color=not no_color and sys.stdout.isatty(),
        prefix=not no_log_prefix,
        timestamps=timestamps,
    )
    count = _tail(tail)
    start = _since(since)
    lines = [ln for src, path in sources.items() for ln in read_all(src, path, count, start)]
    end = _since(until)
    if end is not None:
        from compose.logs import parse_time

        lines = [ln for ln in lines if (parse_time(ln.time) or 0) <= end]
    for line in sorted(lines, key=lambda ln: ln.time):
        click.echo(fmt.format(line))
    if follow:
        _follow(project, services, index, sources, fmt, LogTail)


def _tail(text: str) -> int | None:
    if text == "all":
        return None
    try:
        return int(text)
    except ValueError:
        hint = "--tail"
        raise click.BadParameter(f"{text!r}: a number of lines or 'all'", param_hint=hint) from None


def _sources(
    observed: ObservedProject, services: tuple[str, ...], index: int | None
) -> dict[str, Path]:
    from compose.state import staged_for

    out: dict[str, Path] = {}
    names = {r.name for r in observed.replicas}
    for rep in observed.replicas:
        if (services and rep.service not in services) or (index and rep.index != index):
            continue
        if staged_for(rep.name) in names:
            continue  # a start-first successor (<token>_<name>) while its predecessor runs
        if rep.record.log_path:
            out[f"{rep.service}-{rep.index}"] = Path(rep.record.log_path)
    return out


def _since(text: str | None) -> float | None:
    from compose.logs import parse_since

    if not text:
        return None
    try:
        return parse_since(text, time.time())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since/--until") from None


def _follow(
    project: ProjectClient,
    services: tuple[str, ...],
    index: int | None,
    sources: dict[str, Path],
    fmt: Formatter,
    tail_cls: type[LogTail],
) -> None:
    tail = tail_cls()
    for src, path in sources.items():
        tail.add(src, path, from_end=True)
    followed = dict(sources)
    while True:
        for line in tail.poll():
            click.echo(fmt.format(line))
        observed = project.observe()
        for src, path in _sources(observed, services, index).items():
            if followed.get(src) != path:  # new, or recreated with another log file
                tail.discard(src)
                tail.add(src, path)
                followed[src] = path
        if not any(r.running for r in observed.replicas) and not observed.supervisor_pid:
            for line in tail.poll():
                click.echo(fmt.format(line))
            return
        time.sleep(0.2)
