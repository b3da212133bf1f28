"""A stack's ``build:`` sections -> build requests; which services ``build``/``up`` must build.

Docker compose's rules (``pkg/compose/build.go``, ``create.go``):

- the image of a service without ``image:`` is ``<project>-<service>``; ``build.tags`` are
  extra names; the image gets ``build.labels`` + ``com.docker.compose.{project,service,version}``;
- ``up``/``create``/``run`` build a service when its image is missing locally, when its
  ``pull_policy`` is ``build``, or with ``--build``; ``--no-build`` never builds; a service with
  both ``image:`` and ``build:`` is pulled first (unless ``pull_policy: never|build``) and
  built only if that fails;
- ``build --with-dependencies`` adds ``depends_on`` targets; ``service:`` additional contexts
  are built first, then used as ``docker-image://`` contexts;
- services whose builds share steps build them once (the cache's per-key claim), in
  parallel waves.

A git URL context (``compose.build.gitref``'s forms) is fetched by the builder; other remote
contexts (a tarball URL), ``build.platforms``/``platform`` other than the host's, ``cache_to``
other than inline and ``isolation`` are refused or warned about in one line each.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from msgspec import Struct

from compose.build.request import BuildRequest
from compose.errors import BuildError, UserError
from compose.runtime.spec import Ulimit

COMPOSE_LABELS = ("com.docker.compose.project", "com.docker.compose.service")


def compose_version() -> str:
    from compose import __version__

    return __version__


class BuildFlags(Struct, frozen=True):
    """What the CLI asked for (``build`` and ``up --build`` flags)."""

    no_cache: bool = False
    pull: bool = False
    args: Mapping[str, str | None] | None = None  # --build-arg (None value: from the env)
    environ: Mapping[str, str] | None = None


def image_tags(stack: Any, svc: Any) -> list[str]:
    name = svc.image_name(stack.name)
    return list(dict.fromkeys([name, *svc.build.tags]))


def _secrets(stack: Any, svc: Any, environ: Mapping[str, str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for ref in svc.build.secrets:
        top = stack.secrets.get(ref.source)
        if top is None:
            raise UserError(f'service "{svc.name}": build secret "{ref.source}" is not defined')
        if top.file:
            try:
                out[ref.source] = Path(top.file).read_bytes()
            except OSError as err:
                raise BuildError(
                    f'service "{svc.name}": build secret "{ref.source}": {err.strerror}: {top.file}'
                ) from None
        elif top.environment:
            value = environ.get(top.environment, stack.environment.get(top.environment))
            if value is None:
                raise BuildError(
                    f'service "{svc.name}": build secret "{ref.source}": '
                    f"${top.environment} is not set"
                )
            out[ref.source] = value.encode()
        else:
            raise BuildError(f'service "{svc.name}": build secret "{ref.source}" has no source')
    return out


def _ssh(svc: Any, environ: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for item in svc.build.ssh:
        ident, _, path = item.partition("=")
        if not path:
            path = environ.get("SSH_AUTH_SOCK", "")
        if path and os.path.exists(path):
            out[ident or "default"] = path
    return out


def _extra_hosts(items: Iterable[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items:
        host, sep, ip = item.partition("=")
        if not sep:
            host, _, ip = item.partition(":")
        out.append((host, ip.strip("[]")))
    return tuple(out)


def _ulimits(ulimits: Mapping[str, Any]) -> tuple[Ulimit, ...]:
    return tuple(Ulimit(name, *u.limits) for name, u in ulimits.items())


def _check_platforms(svc: Any) -> None:
    from compose.build.frontend import normalize_platform
    from compose.images.platform import host_platform

    host = normalize_platform(host_platform())
    wanted = [*svc.build.platforms, *([svc.platform] if svc.platform else [])]
    for platform in wanted:
        if normalize_platform(platform) != host:
            raise BuildError(
                f'service "{svc.name}": platform {platform}: pycompose builds for the host '
                f"platform ({host}) only"
            )


def _args(svc: Any, flags: BuildFlags, environ: Mapping[str, str]) -> dict[str, str]:
    args = {k: str(v) for k, v in svc.build.args.items() if v is not None}
    for key, value in (flags.args or {}).items():
        if value is None:
            if key in environ:
                args[key] = environ[key]
        else:
            args[key] = value
    return args


def _cache_from(svc: Any, warnings: list[str]) -> tuple[str, ...]:
    refs = []
    for item in svc.build.cache_from:
        fields = dict(f.partition("=")[::2] for f in item.split(",")) if "=" in item else {}
        if not fields:
            refs.append(item)
        elif fields.get("type") == "registry" and fields.get("ref"):
            refs.append(fields["ref"])
        else:
            warnings.append(f'service "{svc.name}": cache_from {item}: only images are used')
    for item in svc.build.cache_to:
        if "type=inline" not in item:
            warnings.append(
                f'service "{svc.name}": cache_to {item}: ignored (built images always carry '
                "their cache keys: push them and use them as cache_from)"
            )
    return tuple(refs)


def request_for(
    stack: Any, svc: Any, flags: BuildFlags, warnings: list[str], contexts: Mapping[str, str]
) -> BuildRequest:
    build = svc.build
    environ = {**stack.environment, **(flags.environ or {})}
    _check_platforms(svc)
    context = build.context or "."
    git = _git_context(svc.name, context)
    labels = {
        **build.labels,
        "com.docker.compose.project": stack.name,
        "com.docker.compose.service": svc.name,
        "com.docker.compose.version": compose_version(),
    }
    return BuildRequest(
        context=Path("." if git else context),
        git=git,
        dockerfile=build.dockerfile or "Dockerfile",
        dockerfile_inline=build.dockerfile_inline,
        name=svc.name,
        args=_args(svc, flags, environ),
        target=build.target or "",
        tags=tuple(image_tags(stack, svc)),
        labels=labels,
        network=build.network or "default",
        extra_hosts=_extra_hosts(build.extra_hosts),
        shm_size=int(build.shm_size) if build.shm_size else None,
        ulimits=_ulimits(build.ulimits),
        secrets=_secrets(stack, svc, environ),
        ssh=_ssh(svc, environ),
        contexts={**build.additional_contexts, **contexts},
        no_cache=flags.no_cache or build.no_cache,
        no_cache_filter=tuple(build.no_cache_filter),
        pull=flags.pull or build.pull,
        privileged=build.privileged,
        cache_from=_cache_from(svc, warnings),
    )


def _git_context(service: str, context: str) -> str:
    """``context`` when it names a git repository ("" for a directory); BuildError for a
    malformed git reference or a remote context that is no git repository."""
    from compose.build import gitref

    try:
        if gitref.parse(context) is not None:
            return context
    except gitref.GitRefError as err:
        raise BuildError(
            f'service "{service}": build context {gitref.redact(context)}: {err}'
        ) from None
    if "://" in context:
        raise BuildError(
            f'service "{service}": build context {gitref.redact(context)}: only git URLs '
            "are supported as remote contexts",
            hint="an http(s) URL is a git repository when its path ends in .git",
        )
    return ""


def _network_check(svc: Any) -> None:
    network = svc.build.network
    if network and network not in ("default", "none", "host"):
        raise BuildError(
            f'service "{svc.name}": build network {network!r}: only default, none and host'
        )


def services_to_build(stack: Any, services: Iterable[str], with_deps: bool) -> list[str]:
    """The services ``build [SERVICE...]`` builds: those named (all when none), with their
    dependencies when asked, that have ``build:``; UnknownServiceError for a name that is no
    service."""
    from compose.errors import UnknownServiceError

    names = list(services)
    for name in names:
        if name not in stack.services:
            raise UnknownServiceError(f'no such service: "{name}"')
    names = names or sorted(stack.services)
    if with_deps:
        names = with_dependencies(stack, names)
    return [n for n in names if stack.services[n].build is not None]


def with_dependencies(stack: Any, names: Iterable[str]) -> list[str]:
    """``names`` plus their depends_on targets, transitively (docker compose's order)."""
    seen: list[str] = []
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name in seen or name not in stack.services:
            continue
        seen.append(name)
        todo.extend(stack.services[name].depends_on)
    return seen


def service_contexts(svc: Any) -> list[str]:
    """Services a ``service:<name>`` additional context needs built first."""
    return [
        v.removeprefix("service:")
        for v in svc.build.additional_contexts.values()
        if v.startswith("service:")
    ]


def build_order(stack: Any, names: Iterable[str]) -> list[list[str]]:
    """Waves of services to build: ``service:`` contexts before their users."""
    from compose.order import generations

    wanted = {n for n in names if stack.services[n].build is not None}
    todo = list(wanted)
    while todo:
        for dep in service_contexts(stack.services[todo.pop()]):
            if dep not in stack.services or stack.services[dep].build is None:
                raise BuildError(f'additional context "service:{dep}": no such service with build')
            if dep not in wanted:
                wanted.add(dep)
                todo.append(dep)
    needs = {n: [d for d in service_contexts(stack.services[n]) if d in wanted] for n in wanted}
    return generations(needs)


def needs_build(svc: Any, store: Any, project: str, *, build: bool, no_build: bool) -> bool:
    """Must ``up``/``create``/``run`` build this service's image?"""
    if svc.build is None or no_build:
        return False
    if build or svc.pull_policy == "build":
        return True
    return not store.has(svc.image_name(project))


def resolve_contexts(stack: Any, svc: Any, built: Mapping[str, str]) -> dict[str, str]:
    """``service:x`` contexts as the image just built for x."""
    out = {}
    for name, value in svc.build.additional_contexts.items():
        if value.startswith("service:"):
            dep = value.removeprefix("service:")
            out[name] = "docker-image://" + built.get(
                dep, stack.services[dep].image_name(stack.name)
            )
    return out


def build_services(
    stack: Any,
    names: Iterable[str],
    flags: BuildFlags,
    builder: Any,
    on_built: Any = None,
) -> dict[str, Any]:
    """Build the services (waves in dependency order, each wave's services in parallel);
    returns service -> BuildResult. ``on_built(service, result)`` is called as each finishes."""
    results: dict[str, Any] = {}
    for wave in build_order(stack, names):

        def request(name: str) -> BuildRequest:
            svc = stack.services[name]
            _network_check(svc)
            contexts = resolve_contexts(
                stack, svc, {n: image_tags(stack, stack.services[n])[0] for n in results}
            )
            return request_for(stack, svc, flags, builder.warnings, contexts)

        build_wave({n: partial(request, n) for n in wave}, builder, results, on_built)
    return results


def build_wave(
    requests: Mapping[str, Callable[[], BuildRequest]],
    builder: Any,
    results: dict[str, Any],
    on_built: Any = None,
) -> None:
    """Build one wave of services in parallel (``requests``: service -> its request, made in
    its thread); the first failure (not a cancellation) is raised once all have stopped."""
    from compose.build.threads import run_all

    errors: list[BaseException] = []

    def one(name: str) -> None:
        try:
            results[name] = builder.build(requests[name]())
            if on_built is not None:
                on_built(name, results[name])
        except BaseException as err:
            errors.append(err)
            builder.cancel.set()

    run_all([partial(one, n) for n in requests], builder.cancel)
    if errors:
        raise next((e for e in errors if not isinstance(e, _cancelled())), errors[0])


def _cancelled() -> type[BaseException]:
    from compose.build.request import Cancelled

    return Cancelled
