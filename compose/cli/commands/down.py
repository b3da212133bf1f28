from __future__ import annotations

from typing import TYPE_CHECKING

import click

from compose.cli.commands._project import CliOutput, client, needs_root, report

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


@click.command()
@click.argument("services", nargs=-1)
@click.option("-v", "--volumes", is_flag=True, help="Also remove named and anonymous volumes.")
@click.option(
    "--remove-orphans", is_flag=True, help="Remove containers of services not in the file."
)
@click.option("-t", "--timeout", type=float, default=None, help="Shutdown timeout in seconds.")
@click.option(
    "--rmi",
    type=click.Choice(["local", "all"]),
    default=None,
    help="Remove images used by services: 'local' only those without an image: key (built), "
    "'all' every one. Images other containers still use are kept.",
)
@click.option("--dry-run", "dry_run", is_flag=True, help="Print the plan; change nothing.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    services: tuple[str, ...],
    volumes: bool,
    remove_orphans: bool,
    timeout: float | None,
    rmi: str | None,
    dry_run: bool,
) -> None:
    """Stop and remove containers and networks (and volumes with -v); with services named,
    only their containers."""
    from compose.project import DownOptions

    dry_run = dry_run or obj.dry_run
    if not dry_run:
        needs_root(obj, "down")
    project = client(obj)
    options = DownOptions(tuple(services), remove_volumes=volumes, remove_orphans=remove_orphans)
    images = project.service_images(rmi) if rmi else []
    if dry_run:
        plan = project.plan_down(options)
        click.echo("\n".join([plan.render(), *(f"Image {i}  Remove" for i in images)]))
        return
    out = CliOutput()
    report(project.down(options, timeout, out), out)
    remove_images(images)


def remove_images(refs: list[str]) -> None:
    from compose.cli.commands._imagerm import remove_unused
    from compose.images import ImageStore
    from compose.progress import pair

    store, out = ImageStore(), CliOutput()
    for ref in refs:
        if not store.has(ref):
            continue
        _, user = remove_unused(store, ref)
        if user is not None:
            out.warning(f"image {ref} is used by container {user}: not removed")
        else:
            for step in pair("Image", ref, "Removed"):
                out.step(step)
