"""``pycompose config``: the resolved stack in docker compose's canonical form, or one facet."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from compose.cli.loading import load_from_cli, load_options, show_warnings

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.model import Service, Stack
    from compose.stackfile import LoadOptions


@dataclass(frozen=True)
class ConfigRequest:
    services: tuple[str, ...] = ()
    fmt: str = "yaml"
    listing: str | None = None  # services | volumes | networks | profiles | images | environment
    hash_services: str | None = None
    quiet: bool = False
    interpolate: bool = True
    consistency: bool = True
    normalize: bool = True
    resolve_paths: bool = True


@click.command("config")
@click.argument("services", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="Output format.",
)
@click.option("--services", "listing", flag_value="services", help="Print the service names.")
@click.option("--volumes", "listing", flag_value="volumes", help="Print the volume names.")
@click.option("--networks", "listing", flag_value="networks", help="Print the network names.")
@click.option("--profiles", "listing", flag_value="profiles", help="Print the profile names.")
@click.option("--images", "listing", flag_value="images", help="Print the image names.")
@click.option(
    "--environment",
    "listing",
    flag_value="environment",
    help="Print the environment used for interpolation.",
)
@click.option(
    "--hash",
    "hash_services",
    metavar="SERVICES",
    help='Print the config hash of these services ("web,db" or "*").',
)
@click.option("-q", "--quiet", is_flag=True, help="Only validate the configuration.")
@click.option("--no-interpolate", is_flag=True, help="Don't interpolate environment variables.")
@click.option("--no-consistency", is_flag=True, help="Don't check cross-references.")
@click.option("--no-normalize", is_flag=True, help="Don't add implicit defaults (default network).")
@click.option("--no-path-resolution", is_flag=True, help="Don't make paths absolute.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    services: tuple[str, ...],
    output: str | None,
    no_interpolate: bool,
    no_consistency: bool,
    no_normalize: bool,
    no_path_resolution: bool,
    **flags: object,
) -> None:
    """Parse, resolve and render the stack in canonical form."""
    request = ConfigRequest(
        services=services,
        interpolate=not no_interpolate,
        consistency=not no_consistency,
        normalize=not no_normalize,
        resolve_paths=not no_path_resolution,
        **flags,  # type: ignore[arg-type]
    )
    if request.quiet and request.interpolate:
        _validated(obj, request, text=False)  # validate only
        return
    if request.quiet:
        _raw_tree(obj, request)  # without interpolation: what the loader checks
        return
    text = run_config(obj, request)
    if output:
        from compose.cli.output import write_output

        write_output(output, text)
    else:
        click.echo(text, nl=False)


# --no-interpolate: these print the loader's tree (or its keys); hashes, images and the
# environment need typed values, so they come from the interpolated model
_KEY_LISTINGS = (None, "services", "volumes", "networks")


def run_config(obj: GlobalOptions, request: ConfigRequest) -> str:
    """The text ``config`` prints for ``request`` (validates first; raises user errors)."""
    if request.listing == "profiles":
        return _lines(_load(obj, request, profiles=("*",)).all_profiles())
    raw_ok = request.hash_services is None and request.listing in _KEY_LISTINGS
    if not request.interpolate and raw_ok:
        data = _raw_tree(obj, request)
        if request.listing:  # names are keys: never interpolated
            return _lines(sorted(data.get(request.listing) or {}))
        from compose.model.render import render

        return render(data, request.fmt)  # type: ignore[arg-type]
    if request.hash_services is None and not request.listing:
        return _validated(obj, request, text=True)
    stack = _select(_load(obj, request), request.services)
    if request.hash_services is not None:
        return _hashes(stack, request.hash_services)
    return _listing(stack, request.listing or "")


def _validated(obj: GlobalOptions, request: ConfigRequest, *, text: bool) -> str:
    """The validated stack in canonical form ("" without ``text``), its warnings shown.

    From ``compose.model.memo`` when it can: unchanged files and options skip the loader and
    the YAML parser, an unchanged tree skips pydantic; what the model finds is never skipped."""
    from compose.model import memo

    options = load_options(obj, **_loader_flags(request))
    params = ("config", request.fmt if text else None, request.services, request.consistency)
    result = memo.recall(options, params, caller=__name__)
    if result is None:
        result = _load_and_validate(options, request, params, text=text)
    show_warnings([*result["loader_warnings"], *result["warnings"]])
    return str(result["text"])


def _load_and_validate(
    options: LoadOptions, request: ConfigRequest, params: Any, *, text: bool
) -> dict[str, Any]:
    from compose.model import memo
    from compose.stackfile import fs, load_stack_tree

    with fs.recording() as notes:
        loaded = load_stack_tree(options)

    def validate() -> dict[str, Any]:
        from compose.model import stack_from_tree
        from compose.model.render import render_stack

        stack = stack_from_tree(loaded, consistency=request.consistency)
        out = render_stack(_select(stack, request.services), request.fmt) if text else ""  # type: ignore[arg-type]
        # docker compose escapes every "$" of the interpolated model, so its output loads again
        own = stack.warnings[len(loaded.warnings) :]
        return {"text": out.replace("$", "$$"), "warnings": list(own)}

    result = {
        "loader_warnings": list(loaded.warnings),
        **memo.remember(loaded, params, validate, caller=__name__),
    }
    memo.keep(options, params, notes, result, caller=__name__)
    return result


def _load(obj: GlobalOptions, request: ConfigRequest, **overrides: object) -> Stack:
    return load_from_cli(
        obj, consistency=request.consistency, **_loader_flags(request), **overrides
    )


def _loader_flags(request: ConfigRequest) -> dict[str, object]:
    """The ``LoadOptions`` fields that ``config``'s own flags set."""
    return {
        "services": request.services,
        "normalize": request.normalize,
        "resolve_paths": request.resolve_paths,
    }


def _raw_tree(obj: GlobalOptions, request: ConfigRequest) -> dict[str, Any]:
    """``--no-interpolate``: "${VAR}" can't be typed, so the loader's tree as it is."""
    from compose.stackfile import load_stack_tree

    loaded = load_stack_tree(load_options(obj, interpolate=False, **_loader_flags(request)))
    show_warnings(loaded.warnings)
    tree = dict(loaded.tree)
    services = tree.get("services")
    if isinstance(services, dict):  # as the model path: selected, sorted by name
        edges = [(n, d) for n, s in services.items() for d in _tree_dependencies(s)]
        keep = _selection(services, edges, request.services)
        tree["services"] = {name: services[name] for name in sorted(services) if name in keep}
    return {"name": loaded.name, **tree}


def _tree_dependencies(service: object) -> list[str]:
    deps = service.get("depends_on") if isinstance(service, dict) else None
    return list(deps) if isinstance(deps, dict) else []


def _select(stack: Stack, services: tuple[str, ...]) -> Stack:
    """Only the named services and what they depend on (all when none are named)."""
    if not services:
        return stack
    from compose.model.refs import service_edges

    keep = _selection(stack.services, service_edges(stack.services.values()), services)
    kept = {name: svc for name, svc in stack.services.items() if name in keep}
    return stack.model_copy(update={"services": kept})


def _selection(
    names: Collection[str], edges: list[tuple[str, str]], wanted: tuple[str, ...]
) -> set[str]:
    """``wanted`` and what they depend on, transitively (all ``names`` when none is wanted)."""
    from compose.model.refs import reachable

    if not wanted:
        return set(names)
    _check_known(names, wanted)
    return reachable(wanted, edges)


def _listing(stack: Stack, listing: str) -> str:
    if listing == "images":
        return _lines(svc.image_name(stack.name) for svc in _sorted_services(stack))
    if listing == "environment":
        return _lines(f"{k}={v}" for k, v in sorted(stack.environment.items()))
    return _lines(sorted(getattr(stack, listing)))


def _hashes(stack: Stack, selection: str) -> str:
    from compose.planner.hashing import config_hash

    names = list(stack.services) if selection.strip() == "*" else selection.split(",")
    names = [name.strip() for name in names]
    _check_known(stack.services, names)
    return _lines(f"{name} {config_hash(stack.services[name])}" for name in names)


def _check_known(known: Collection[str], names: Iterable[str]) -> None:
    from compose.errors import UnknownServiceError

    unknown = [name for name in names if name not in known]
    if unknown:
        raise UnknownServiceError(f'no such service: "{unknown[0]}"')


def _sorted_services(stack: Stack) -> list[Service]:
    return [stack.services[name] for name in sorted(stack.services)]


def _lines(items: object) -> str:
    return "".join(f"{item}\n" for item in items)  # type: ignore[attr-defined]
