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
@click.option("--ignore-buildable", is_flag=True, help="Skip services that have a build: key.")
@click.option("--include-deps", is_flag=True, help="Also pull the services' dependencies.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    services: tuple[str, ...],
    ignore_pull_failures: bool,
    policy: str | None,
    quiet: bool,
    ignore_buildable: bool,
    include_deps: bool,
) -> None:
    """Pull service images."""
    from compose.graph import ServiceGraph
    from compose.images import ImageStore
    from compose.images.progress import for_terminal
    from compose.images.stackpull import plan_pulls, run_pulls
    from compose.planner.stack import check_services

    stack = load_from_cli(obj, services=services)
    check_services(stack, services)
    names = list(services) or list(stack.services)
    if include_deps and services:
        graph = ServiceGraph.from_stack(stack)
        names += [d for n in services for d in graph.dependencies(n, transitive=True)]
    selected = [
        stack.services[n]
        for n in dict.fromkeys(names)
        if not (ignore_buildable and stack.services[n].build is not None)
    ]
    quiet = quiet or obj.progress == "quiet"
    store = ImageStore()
    jobs = plan_pulls(selected, policy, store)
    progress = for_terminal(quiet)
    try:
        failures = run_pulls(jobs, store, progress, ignore_failures=ignore_pull_failures)
    finally:
        progress.close()
    for line in failures:
        click.echo(f"warning: {line}", err=True)
