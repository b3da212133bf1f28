"""``pycompose pull``: pull the stack's service images in parallel, by pull_policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.loading import load_from_cli

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command("pull")
@click.argument("services", nargs=-1)
@click.option("--ignore-pull-failures", is_flag=True, help="Pull what it can; report the rest.")
@click.option(
    "--policy",
    type=click.Choice(["missing", "always"]),
    help="Apply this pull policy to every service instead of their own.",
)
@click.option("-q", "--quiet", is_flag=True, help="Pull without printing progress.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    services: tuple[str, ...],
    ignore_pull_failures: bool,
    policy: str | None,
    quiet: bool,
) -> None:
    """Pull service images."""
    from compose.images import ImageStore
    from compose.images.progress import for_terminal
    from compose.images.stackpull import plan_pulls, run_pulls

    stack = load_from_cli(obj, services=services)
    selected = [stack.services[n] for n in services] if services else stack.services.values()
    store = ImageStore()
    jobs = plan_pulls(selected, policy, store)
    progress = for_terminal(quiet)
    try:
        failures = run_pulls(jobs, store, progress, ignore_failures=ignore_pull_failures)
    finally:
        progress.close()
    for line in failures:
        click.echo(f"warning: {line}", err=True)
