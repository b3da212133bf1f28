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
    from compose.state import ObservedProject, ObservedReplica


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
    sources = _sources(project.observe(services), services, index)
    fmt = Formatter(
        sources,
        color=not no_color and obj.color(sys.stdout.isatty()),
        prefix=not no_log_prefix,
        timestamps=timestamps,
    )
    count = _tail(tail)
    start = moment(since, "--since")
    lines = [ln for src, path in sources.items() for ln in read_all(src, path, count, start)]
    end = moment(until, "--until")
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


def moment(text: str | None, flag: str = "--since/--until") -> float | None:
    """``--since``/``--until`` (``logs``, ``events``): a Unix time, an RFC 3339 date/time or a
    duration before now, as docker reads them."""
    from compose.logs import parse_since

    if not text:
        return None
    try:
        return parse_since(text, time.time())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=flag) from None


def _follow(
    project: ProjectClient,
    services: tuple[str, ...],
    index: int | None,
    sources: dict[str, Path],
    fmt: Formatter,
    tail_cls: type[LogTail],
) -> None:
    """New lines of every followed replica, and of replicas made meanwhile (scaled up,
    recreated), until each has exited and none will restart (docker compose's end); each
    exit is reported as docker does (``web-1 exited with code 0``)."""
    tail = tail_cls()
    for src, path in sources.items():
        tail.add(src, path, from_end=True)
    followed = dict(sources)
    reported: set[tuple[str, float | None]] = set()
    while True:
        for line in tail.poll():
            click.echo(fmt.format(line))
        observed = project.observe()
        for src, path in _sources(observed, services, index).items():
            if followed.get(src) != path:  # new, or recreated with another log file
                tail.discard(src)
                tail.add(src, path)
                followed[src] = path
        picked = _picked(observed, services, index)
        ended = [r for r in picked if not (r.running or r.restarting or r.exit_pending)]
        for line in tail.poll():
            click.echo(fmt.format(line))
        for rep in ended:
            key = (f"{rep.service}-{rep.index}", rep.record.finished_at)
            if key not in reported:
                reported.add(key)
                code = rep.record.exit_code
                text = "exited" if code is None else f"exited with code {code}"
                click.echo(fmt.status(key[0], text))
        if len(ended) == len(picked) and not _recreating(observed):
            return
        time.sleep(0.2)


def _recreating(observed: ObservedProject) -> bool:
    """A successor runs beside its predecessor (a start-first recreation): its predecessor
    stopping is no end."""
    from compose.state import staged_for

    names = {r.name for r in observed.replicas}
    return any(staged_for(r.name) in names for r in observed.replicas)


def _picked(
    observed: ObservedProject, services: tuple[str, ...], index: int | None
) -> list[ObservedReplica]:
    from compose.state import staged_for

    names = {r.name for r in observed.replicas}
    return [
        r
        for r in observed.replicas
        if not r.record.oneoff
        and (not services or r.service in services)
        and (not index or r.index == index)
        and staged_for(r.name) not in names
    ]
