from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import client, needs_root

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.state import ObservedReplica


def _split(arg: str) -> tuple[str | None, str]:
    head, sep, tail = arg.partition(":")
    if sep and "/" not in head and head:
        return head, tail
    return None, arg


@click.command()
@click.argument("source")
@click.argument("dest")
@click.option("--index", type=int, default=None, help="Replica index (default 1).")
@click.option("-a", "--archive", is_flag=True, help="Keep uid/gid (always kept as root).")
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
    if (src_svc is None) == (dst_svc is None):
        raise click.UsageError("exactly one of SOURCE and DEST must be SERVICE:PATH")
    project = client(obj)
    if src_svc is not None:
        src_path = _in_container(project.replica(src_svc, index), src)
        dst_path = Path(dst)
    elif dst_svc is not None:
        src_path = Path(src)
        dst_path = _in_container(project.replica(dst_svc, index), dst)
    _copy(src_path, dst_path, follow_link)


def _in_container(rep: ObservedReplica, path: str) -> Path:
    """The container's view of ``path``, through /proc/<pid>/root (its mount namespace)."""
    return Path(f"/proc/{rep.record.pid}/root") / path.lstrip("/")


def _copy(src: Path, dst: Path, follow: bool) -> None:
    if not src.exists() and not src.is_symlink():
        raise click.ClickException(f"no such file or directory: {src}")
    if dst.is_dir():
        dst = dst / src.name
    if src.is_dir() and not (src.is_symlink() and not follow):
        shutil.copytree(src, dst, symlinks=not follow, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst, follow_symlinks=follow)
