"""The build step of ``up``, ``create`` and ``run``: ``--build`` / ``--no-build`` and docker
compose's rule that a service with ``build:`` is built when its image is missing locally or its
``pull_policy`` is ``build``. The stack's typed model is loaded only when some service has
``build:`` (``up -d`` of a stack of pulled images stays as fast as before)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions

F = TypeVar("F", bound=Callable[..., Any])


def build_options(func: F) -> F:
    func = click.option("--no-build", is_flag=True, help="Don't build an image, even if missing.")(
        func
    )
    return click.option("--build", is_flag=True, help="Build images before starting containers.")(
        func
    )


def load_for_build(obj: GlobalOptions, services: tuple[str, ...] = ()) -> Any:
    """The typed stack (the services named and what they need, or all of them)."""
    from compose.cli.loading import load_from_cli

    return load_from_cli(obj, services=services) if services else load_from_cli(obj)


def _has_build(obj: GlobalOptions) -> bool:
    """From the loader's tree (no validation); remembered while the files are unchanged
    (``memo.recall``: every ``up`` asks, and the loader costs ~40 ms of its start)."""
    from compose.cli.loading import load_options
    from compose.model import memo

    options = load_options(obj)
    found = memo.recall(options, "has_build", caller=__name__)
    if isinstance(found, bool):
        return found
    from compose.stackfile import fs, load_stack_tree

    with fs.recording() as notes:
        tree = load_stack_tree(options).tree
    services = (tree.get("services") or {}).values()
    result = any(isinstance(s, dict) and "build" in s for s in services)
    memo.keep(options, "has_build", notes, result, caller=__name__)
    return result


def build_before(
    obj: GlobalOptions,
    services: tuple[str, ...],
    *,
    build: bool,
    no_build: bool,
    with_deps: bool = True,
) -> None:
    """Build what the services about to be created need (see the module doc)."""
    if build and no_build:
        raise click.UsageError("--build and --no-build are incompatible")
    if no_build or not _has_build(obj):
        return
    from compose.build import stack as stackbuild
    from compose.cli.commands.build import run_builds
    from compose.images import ImageStore

    stack = load_for_build(obj)
    names = list(services) or sorted(stack.services)
    if with_deps:
        names = stackbuild.with_dependencies(stack, names)
    store = ImageStore()
    wanted = [
        n
        for n in names
        if stackbuild.needs_build(stack.services[n], store, stack.name, build=build, no_build=False)
    ]
    wanted = [n for n in wanted if build or not _pulled_instead(stack.services[n])]
    if wanted:
        flags = stackbuild.BuildFlags(environ=obj.environ)
        run_builds(stack, wanted, flags, "auto")


def _pulled_instead(svc: Any) -> bool:
    """A service with both image: and build: is pulled first; built only if that fails."""
    if not svc.image or svc.pull_policy in ("never", "build"):
        return False
    from compose.errors import ImageError
    from compose.images import pull

    try:
        pull(svc.image, platform=svc.platform)
    except ImageError:
        return False
    return True
