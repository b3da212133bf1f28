from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import CliOutput, client, needs_root
from compose.progress import Step

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


def _split(arg: str) -> tuple[str | None, str]:
    head, sep, tail = arg.partition(":")
    if sep and "/" not in head and head:
        return head, tail
    return None, arg


@click.command()
@click.argument("source")
@click.argument("dest")
@click.option("--index", type=int, default=None, help="Replica index (default 1).")
@click.option("-a", "--archive", is_flag=True, help="Keep uid/gid (else the copy is root's).")
@click.option("-L", "--follow-link", is_flag=True, help="Follow symlinks in SOURCE.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    source: str,
    dest: str,
    index: int | None,
    archive: bool,
    follow_link: bool,
) -> None:
    """Copy files/folders between a service container and the local filesystem."""
    needs_root(obj, "cp")
    src_svc, src = _split(source)
    dst_svc, dst = _split(dest)
    service = src_svc or dst_svc
    if service is None or (src_svc is None) == (dst_svc is None):
        raise click.UsageError("exactly one of SOURCE and DEST must be SERVICE:PATH")
    project = client(obj)
    name = project.replica(service, index).name
    src_text, dst_text = (f"{name}:{src}", dst) if src_svc else (src, f"{name}:{dst}")
    what = f"{name} copy {src_text} to {dst_text}"
    out = CliOutput()
    out.step(Step("", what, "Copying", done=False))  # docker compose's two lines
    project.copy(
        service,
        (src, dst),
        index=index,
        into_container=dst_svc is not None,
        follow=follow_link,
        archive=archive,
    )
    out.step(Step("", what, "Copied"))
