"""``pycompose kube convert``: the stack as Kubernetes manifests (the work is ``compose.kube``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.images import ImageStore
    from compose.model import Stack


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
@click.option(
    "--push",
    metavar="REGISTRY",
    help="Build the services that have build:, push them to REGISTRY, reference them by digest.",
)
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
    from compose.kube import KubeOptions, convert, gather
    from compose.kube.output import render_stream, write_directory

    options = KubeOptions(**flags)  # type: ignore[arg-type]
    stack = _load(obj, services)
    if push:
        stack = _pushed(obj, stack, push)
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
    from compose.model import memo
    from compose.model.load import unsupported_warnings

    stack, _ = memo.load_stack(load_options(obj, services=services))  # unchanged: no validation
    runtime_only = set(unsupported_warnings(stack))
    show_warnings([w for w in stack.warnings if w not in runtime_only])
    return stack


def _pushed(obj: GlobalOptions, stack: Stack, registry: str) -> Stack:
    """Build every service that has ``build:``, push it as ``REGISTRY/<name>:<tag>`` and
    return the stack with ``image: REGISTRY/<name>@<digest>`` for those services, so the
    manifests name exactly what was pushed."""
    from compose.build.stack import BuildFlags
    from compose.cli.commands._project import needs_root
    from compose.cli.commands.build import run_builds
    from compose.images import reference
    from compose.images.pushimage import push_image

    names = sorted(n for n, svc in stack.services.items() if svc.build is not None)
    if not names:
        return stack
    needs_root(obj, "kube convert --push")
    run_builds(stack, names, BuildFlags(environ=obj.environ), "plain")
    store = _image_store()
    services = dict(stack.services)
    for name in names:
        local = stack.services[name].image_name(stack.name)
        parsed = reference.parse(local)
        repo = parsed.familiar_name if parsed.domain == reference.DEFAULT_DOMAIN else parsed.path
        target = f"{registry.rstrip('/')}/{repo}:{parsed.tag or 'latest'}"
        store.tag(target, store.resolve(local).digest)
        digest = push_image(target, store)
        click.echo(f" Image {target} Pushed ({digest})", err=True)
        pinned = f"{registry.rstrip('/')}/{repo}@{digest}"
        services[name] = services[name].model_copy(update={"image": pinned})
    return stack.model_copy(update={"services": services})


def _image_store() -> ImageStore:
    from compose.images import ImageStore

    return ImageStore()
