"""``pycompose watch``: start the services (unless ``--no-up``), then apply their
``develop.watch`` rules to every change (sync into the running replicas, exec, restart, or
rebuild and recreate) until Ctrl-C."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import CliOutput, client, needs_root

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.project import Output, ProjectClient
    from compose.watch.loop import Watcher


@click.command()
@click.argument("services", nargs=-1)
@click.option("--no-up", is_flag=True, help="Do not build and start the services first.")
@click.option("--prune/--no-prune", default=True, help="(accepted: rebuilt images replace theirs)")
@click.option("--quiet", is_flag=True, help="Hide the build output.")
@click.pass_obj
def command(
    obj: GlobalOptions, /, services: tuple[str, ...], no_up: bool, prune: bool, quiet: bool
) -> None:
    """Watch the services' develop.watch paths and sync, restart or rebuild on changes."""
    from compose.cli.commands._build import build_before
    from compose.project import RunOptions, UpOptions

    needs_root(obj, "watch")
    project = client(obj, services)
    out = CliOutput()
    watcher = watcher_for(obj, project, services, out)
    if not no_up:
        build_before(obj, services, build=False, no_build=False, with_deps=True)
        project.up(UpOptions(services=services), RunOptions(detach=True), out)
    try:
        watcher.run()
    except KeyboardInterrupt:
        raise click.exceptions.Exit(130) from None


def watcher_for(
    obj: GlobalOptions, project: ProjectClient, services: tuple[str, ...], out: Output
) -> Watcher:
    """The watch of ``services`` (their rules checked now: an error before anything starts)."""
    from compose.cli.commands._build import build_before
    from compose.watch.loop import Watcher
    from compose.watch.rules import rules_of

    def rebuild(service: str) -> None:
        build_before(obj, (service,), build=True, no_build=False, with_deps=False)

    return Watcher(project, rules_of(project.stack, services), out, rebuild)


def in_background(
    watcher: Watcher, project: ProjectClient
) -> tuple[threading.Thread, threading.Event]:
    """``up --watch``: the watch in a thread once the project's plan has run; set the event
    to end it."""
    stop = threading.Event()

    def run() -> None:
        if project.wait_ready(stop):
            watcher.run(stop)

    thread = threading.Thread(target=run, name="watch", daemon=True)
    thread.start()
    return thread, stop
