"""``pycompose build [SERVICE...]``: build the services' images from their Dockerfiles."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions


def parse_build_args(values: tuple[str, ...]) -> dict[str, str | None]:
    """``--build-arg K=V`` (``K`` alone: from the environment, if set)."""
    out: dict[str, str | None] = {}
    for item in values:
        key, sep, value = item.partition("=")
        out[key] = value if sep else None
    return out


@click.command("build")
@click.argument("services", nargs=-1)
@click.option("--no-cache", is_flag=True, help="Do not use the build cache.")
@click.option("--pull", is_flag=True, help="Always pull newer versions of the base images.")
@click.option("--build-arg", "build_args", multiple=True, help="Set a build-time variable.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "--progress",
    type=click.Choice(["auto", "tty", "plain", "quiet"]),
    default="auto",
    help="Progress output (auto: tty on a terminal).",
)
@click.option("--with-dependencies", is_flag=True, help="Also build the services' dependencies.")
@click.option("--push", is_flag=True, help="Push the images (services with image:) afterwards.")
@click.option("--dry-run", "dry_run", is_flag=True, help="Print the build plan; build nothing.")
@click.pass_obj
def command(obj: GlobalOptions, /, services: tuple[str, ...], **opts: Any) -> None:
    """Build or rebuild services."""
    dry_run = obj.dry_run or opts["dry_run"]
    remembered = None if dry_run else _recall(obj, services, opts)
    if remembered is not None and (
        _replay(obj, remembered, opts) or _build_remembered(obj, remembered, opts)
    ):
        return
    from compose.build import stack as stackbuild
    from compose.cli.commands._build import load_for_build
    from compose.cli.commands._project import needs_root

    stack = load_for_build(obj, services)
    names = stackbuild.services_to_build(stack, services, opts["with_dependencies"])
    flags = stackbuild.BuildFlags(
        no_cache=opts["no_cache"],
        pull=opts["pull"],
        args=parse_build_args(opts["build_args"]),
        environ=obj.environ,
    )
    if dry_run:
        _print_plans(stack, names, flags)
        return
    needs_root(obj, "build")
    warnings: list[str] = []
    results = run_builds(
        stack, names, flags, "quiet" if opts["quiet"] else opts["progress"], warnings
    )
    if opts["push"]:
        _push(stack, results, opts["quiet"])
    elif remembered is None:
        _keep(obj, services, opts, (stack, names, flags), results, warnings)


# -- unchanged builds (compose.build.memo) ---------------------------------------------------
# An unchanged `build` is answered from two memos: the stack's (compose.model.memo.recall: the
# compose files, env files and environment as the loader saw them -> each service's image name
# and build-request key) and each build's (compose.build.memo.check: Dockerfile, ignore files,
# the context's stat walk, the images used and built are still the same). Neither the stack's
# model nor the builder is imported; the steps are replayed as CACHED.


def _memo_params(services: tuple[str, ...], opts: dict[str, Any]) -> Any:
    return ("build", services, opts["with_dependencies"], sorted(opts["build_args"]))


def _load_options(obj: GlobalOptions, services: tuple[str, ...]) -> Any:
    from compose.cli.loading import load_options

    return load_options(obj, services=services) if services else load_options(obj)


def _recall(obj: GlobalOptions, services: tuple[str, ...], opts: dict[str, Any]) -> Any:
    if opts["no_cache"] or opts["pull"] or opts["push"]:
        return None
    from compose.model import memo as stackmemo

    options = _load_options(obj, services)
    value = stackmemo.recall(options, _memo_params(services, opts), caller=__name__)
    return value if isinstance(value, dict) else None


def _request_doc(stack: Any, name: str, flags: Any) -> Any:
    """The service's build request as JSON data (None with secrets or ssh: read afresh)."""
    from compose.build import stack as stackbuild
    from compose.build.request import to_doc

    svc = stack.services[name]
    if svc.build.secrets or svc.build.ssh:
        return None
    return to_doc(stackbuild.request_for(stack, svc, flags, [], {}))


def _build_remembered(obj: GlobalOptions, remembered: dict[str, Any], opts: dict[str, Any]) -> bool:
    """Something a build reads changed but the stack did not: build the remembered requests
    (the stack's model is not needed, nor imported); False when one is not remembered."""
    entries = remembered["services"]
    if not entries or any(len(e) < 4 or e[3] is None for e in entries):
        return False
    from compose.build import stack as stackbuild
    from compose.build.request import from_doc
    from compose.cli.commands._project import needs_root
    from compose.cli.loading import show_warnings

    needs_root(obj, "build")
    show_warnings(remembered["warnings"])
    requests = {name: partial(from_doc, doc) for name, _image, _key, doc in entries}
    images = {name: image for name, image, _key, _doc in entries}

    def work(builder: Any, built: Any) -> dict[str, Any]:
        results: dict[str, Any] = {}
        stackbuild.build_wave(requests, builder, results, built)
        return results

    _with_builder(work, images.__getitem__, "quiet" if opts["quiet"] else opts["progress"], None)
    return True


def _replay(obj: GlobalOptions, remembered: dict[str, Any], opts: dict[str, Any]) -> bool:
    """Print what the remembered builds printed (steps CACHED) if every one of them is still
    what building would make; False (nothing printed) otherwise."""
    from compose import paths
    from compose.build import memo

    root = paths.images_dir()
    replays = []
    for entry in remembered["services"]:
        image, key = entry[1], entry[2]
        shown = memo.check(root, key)
        if shown is None:
            return False
        replays.append((image, shown))
    from compose.build.progress import for_mode
    from compose.cli.commands._project import needs_root
    from compose.cli.loading import show_warnings

    needs_root(obj, "build")
    show_warnings(remembered["warnings"])
    mode = "quiet" if opts["quiet"] else opts["progress"]
    progress = for_mode(mode)
    for _image, shown in replays:
        for line, step in shown:
            vertex = progress.vertex(line)
            vertex.cached() if step else vertex.start().done()
    progress.close()
    if mode != "quiet":
        for warning in remembered["builder_warnings"]:
            click.echo(f"warning: {warning}", err=True)
        for image, _shown in replays:
            click.echo(f" Image {image} Built", err=True)
    return True


def _keep(
    obj: GlobalOptions,
    services: tuple[str, ...],
    opts: dict[str, Any],
    what: tuple[Any, list[str], Any],
    results: dict[str, Any],
    warnings: list[str],
) -> None:
    """Remember this run for ``_recall`` when every build was remembered (compose.build.memo).
    The loader runs once more to note what it reads (its questions are the memo's key)."""
    stack, names, flags = what
    if not all(results.get(n) is not None and results[n].memo for n in names):
        return
    from compose.model import memo as stackmemo
    from compose.stackfile import fs, load_stack_tree

    options = _load_options(obj, services)
    with fs.recording() as notes:
        load_stack_tree(options)
    value = {
        "services": [
            [
                n,
                stack.services[n].image_name(stack.name),
                results[n].memo,
                _request_doc(stack, n, flags),
            ]
            for n in names
        ],
        "warnings": list(stack.warnings),
        "builder_warnings": warnings,
    }
    stackmemo.keep(options, _memo_params(services, opts), notes, value, caller=__name__)


def run_builds(
    stack: Any,
    names: list[str],
    flags: Any,
    progress_mode: str,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """Build ``names`` with BuildKit-like progress on stderr; ``Image <name> Built`` after each
    (the builder's warnings are also added to ``warnings``)."""
    from compose.build import stack as stackbuild

    if not names:
        return {}

    def work(builder: Any, built: Any) -> dict[str, Any]:
        return stackbuild.build_services(stack, names, flags, builder, built)

    def image(name: str) -> str:
        return str(stack.services[name].image_name(stack.name))

    return _with_builder(work, image, progress_mode, warnings)


def _with_builder(
    work: Any, image: Any, progress_mode: str, warnings: list[str] | None
) -> dict[str, Any]:
    """``work(builder, on_built)`` with progress on stderr, then the warnings and the
    ``Image <image(service)> Built`` lines."""
    from compose.build.executor import Builder
    from compose.build.progress import for_mode

    progress = for_mode(progress_mode)
    builder = Builder(progress=progress)
    done: list[str] = []

    def built(name: str, result: Any) -> None:
        done.append(f" Image {image(name)} Built")

    try:
        with _terminate_as_interrupt():
            results: dict[str, Any] = work(builder, built)
    finally:
        progress.close()
        builder.close()
    if warnings is not None:
        warnings.extend(builder.warnings)
    if progress_mode != "quiet":
        for warning in builder.warnings:
            click.echo(f"warning: {warning}", err=True)
        for line in done:
            click.echo(line, err=True)
    return results


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) cancel a build like Ctrl-C: its containers and
    temporary files are removed before the process ends."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _print_plans(stack: Any, names: list[str], flags: Any) -> None:
    from compose.build import gitref, stack as stackbuild
    from compose.build.executor import Builder

    builder = Builder()
    for wave in stackbuild.build_order(stack, names):
        for name in wave:
            svc = stack.services[name]
            req = stackbuild.request_for(stack, svc, flags, builder.warnings, {})
            tags = ", ".join(req.tags)
            if _git_sources(req):  # a dry run fetches nothing
                where = gitref.redact(req.git) if req.git else req.context
                click.echo(f"build {name} ({tags}) from {where} {req.dockerfile_display}")
                click.echo("  (git sources are not fetched by a dry run: the steps show then)")
                continue
            plan = builder.plan(req, local_only=True) if _bases_local(builder, req) else None
            click.echo(f"build {name} ({tags}) from {req.context}/{req.dockerfile_display}")
            if plan is None:
                click.echo("  (base images are not pulled yet: the steps show once they are)")
                continue
            for stage in plan.stages:
                click.echo(f"  {stage.prefix(1, name)} FROM {stage.base_ref}")
                for step in stage.steps:
                    click.echo(f"  {stage.prefix(step.number, name)} {step.display}")


def _git_sources(req: Any) -> bool:
    from compose.build import gitref

    return bool(req.git) or any(gitref.is_git(v) for v in req.contexts.values())


def _bases_local(builder: Any, req: Any) -> bool:
    from compose.errors import BuildError

    try:
        builder.plan(req, local_only=True)
    except BuildError as err:
        if "No such image" in str(err):
            return False
        raise
    return True


def _push(stack: Any, results: dict[str, Any], quiet: bool) -> None:
    from compose.images.pushimage import push_image

    for name in sorted(results):
        svc = stack.services[name]
        if not svc.image:
            click.echo(f'warning: service "{name}" has no image: to push to; skipped', err=True)
            continue
        push_image(svc.image)
        if not quiet:
            click.echo(f" Image {svc.image} Pushed", err=True)
