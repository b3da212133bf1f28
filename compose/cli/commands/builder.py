"""``pycompose builder prune``: remove the build cache (docker's ``docker builder prune``)."""

from __future__ import annotations

import sys

import click


@click.group("builder")
def command() -> None:
    """Manage the build cache."""


@command.command("prune")
@click.option(
    "-a",
    "--all",
    "everything",
    is_flag=True,
    help="Remove all unused build cache, not just dangling ones.",
)
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation.")
def prune_cmd(everything: bool, force: bool) -> None:
    """Remove build cache (and the build bridge when no build runs)."""
    from compose.build.prune import prune_build_cache
    from compose.cli.commands.stats import human_size
    from compose.images import ImageStore

    if not force and not _confirmed(everything):
        click.echo("Total reclaimed space: 0B")
        return
    pruned = prune_build_cache(ImageStore(), everything)
    if pruned.objects:
        click.echo("Deleted build cache objects:")
        for name in pruned.objects:
            click.echo(name)
        click.echo()
    click.echo(f"Total reclaimed space: {human_size(pruned.reclaimed, 4)}")


def _confirmed(everything: bool) -> bool:
    which = "all build cache" if everything else "all dangling build cache"
    click.echo(
        f"WARNING! This will remove {which}. Are you sure you want to continue? [y/N] ", nl=False
    )
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")
