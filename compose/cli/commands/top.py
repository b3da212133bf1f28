"""``pycompose top``: the replicas' processes in docker compose's one table (SERVICE, #, then
``ps -ef``'s columns, user names included)."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions

COLUMNS = ("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD")
PS_FIELDS = "user=,pid=,ppid=,c=,stime=,tty=,time=,args="


@click.command()
@click.argument("services", nargs=-1)
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...]) -> None:
    """Display the running processes."""
    from compose.cli.gotemplate import tabwrite

    rows = []
    for rep, pids in client(obj).processes(services):
        rows += [[rep.service, str(rep.index), *proc] for proc in processes(pids)]
    if rows:
        click.echo(tabwrite([["SERVICE", "#", *COLUMNS], *rows], minwidth=4, padding=2))


def processes(pids: list[int]) -> list[list[str]]:
    """``ps``'s row of each pid (still alive), by pid: the host's user names, as docker's."""
    if not pids:
        return []
    args = ["ps", "-o", PS_FIELDS, "-p", ",".join(map(str, sorted(pids)))]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    return [line.split(None, len(COLUMNS) - 1) for line in out.splitlines() if line.strip()]
