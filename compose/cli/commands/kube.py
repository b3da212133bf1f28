"""``pycompose kube convert``: the stack as Kubernetes manifests (the work is ``compose.kube``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.images import ImageStore
    from compose.model import Stack

BUILDER_GAP = (
    "--push needs the image builder (issue 12, compose/build/), which is not in this pycompose yet"
)


@click.group("kube")
def command() -> None:
    """Kubernetes: convert the stack to manifests."""


@command.command("convert")
@click.argument("services", nargs=-1)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one file per object and a kustomization.yaml into this directory.",
)
@click.option("-n", "--namespace", help="Set metadata.namespace on every object.")
@click.option(
    "--publish",
    type=click.Choice(["NodePort", "LoadBalancer"]),
    help="Also expose published ports through a Service of this type.",
)
@click.option(
    "--stateful", is_flag=True, help="Services that own their named volumes become StatefulSets."
)
@click.option(
    "--wait-init",
    metavar="IMAGE",
    help="Add initContainers (IMAGE: a shell with nc) that wait for depends_on.",
)
@click.option("--network-policies", is_flag=True, help="Turn networks into NetworkPolicies.")
@click.option("--volume-size", default="1Gi", show_default=True, help="Storage each PVC asks for.")
@click.option("--push", metavar="REGISTRY", help="Build and push built images to REGISTRY.")
@click.option("--strict", is_flag=True, help="Make every warning an error.")
@click.option(
    "--check",
    is_flag=True,
    help="Validate the output (OpenAPI schema + semantic checks) before writing it.",
)
@click.option(
    "--kube-version",
    default=None,
    metavar="X.Y",
    help="Kubernetes version whose schema --check uses (default: the newest known).",
)
@click.pass_obj
def convert(
    obj: GlobalOptions,
    /,
    services: tuple[str, ...],
    output: Path | None,
    check: bool,
    kube_version: str | None,
    push: str | None,
    **flags: object,
) -> None:
    """Convert the stack (or SERVICES and their dependencies) to Kubernetes manifests."""
    from compose.errors import UserError
    from compose.kube import KubeOptions, convert, gather
    from compose.kube.output import render_stream, write_directory

    if push:
        raise UserError(BUILDER_GAP, hint="build and push the images yourself, then set image:")
    options = KubeOptions(**flags)  # type: ignore[arg-type]
    stack = _load(obj, services)
    conversion = convert(stack, options, gather(stack, _image_store()), services)
    for warning in conversion.warnings:
        click.echo(f"warning: {warning}", err=True)
    if check:
        from compose.kube.check import check_conversion

        check_conversion(conversion, kube_version)
    if output is None:
        click.echo(render_stream(conversion.objects), nl=False)
    else:
        written = write_directory(output, conversion.objects, options.namespace)
        click.echo(f"wrote {len(written)} files to {output}", err=True)


def _load(obj: GlobalOptions, services: tuple[str, ...]) -> Stack:
    """The stack as every command loads it; the runtime's "not supported by pycompose"
    warnings are left out: the converter says for itself what it maps."""
    from compose.cli.loading import load_options, show_warnings
    from compose.model import load_stack
    from compose.model.load import unsupported_warnings

    stack = load_stack(load_options(obj, services=services))
    runtime_only = set(unsupported_warnings(stack))
    show_warnings([w for w in stack.warnings if w not in runtime_only])
    return stack


def _image_store() -> ImageStore:
    from compose.images import ImageStore

    return ImageStore()
