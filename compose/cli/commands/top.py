from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


def cgroup_pids(cgroup_path: str) -> list[int]:
    """Pids whose /proc/<pid>/cgroup names the replica's cgroup (v1 or v2)."""
    from pathlib import Path

    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            text = (proc / "cgroup").read_text()
        except OSError:
            continue
        if f"/{cgroup_path}\n" in text or text.endswith(f"/{cgroup_path}"):
            pids.append(int(proc.name))
    return sorted(pids)


@click.command()
@click.argument("services", nargs=-1)
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...]) -> None:
    """Display the running processes."""
    for rep in client(obj).replicas(services, running=True):
        pids = cgroup_pids(rep.record.runtime.get("cgroup_path", ""))
        click.echo(rep.name)
        if pids:
            cols = "uid,pid,ppid,c,stime,tty,time,cmd"
            args = ["ps", "-o", cols, "-p", ",".join(map(str, pids))]
            click.echo(subprocess.run(args, capture_output=True, text=True).stdout)
