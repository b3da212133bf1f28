"""What to build: one image from a context and a Dockerfile (a service's ``build:``, resolved)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from compose.runtime.spec import Ulimit


class BuildRequest(Struct, frozen=True):
    context: Path  # the checkout's directory once a ``git`` context is fetched
    dockerfile: str = "Dockerfile"  # relative to the context (may lead outside it) or absolute
    dockerfile_inline: str | None = None
    name: str = ""  # the service: prefixes progress lines ("[web 2/5] RUN ...")
    args: Mapping[str, str] = field(default_factory=dict)
    target: str = ""
    tags: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    network: str = "default"
    extra_hosts: tuple[tuple[str, str], ...] = ()
    shm_size: int | None = None
    ulimits: tuple[Ulimit, ...] = ()
    secrets: Mapping[str, bytes] = field(default_factory=dict)
    ssh: Mapping[str, str] = field(default_factory=dict)  # id -> agent socket path
    contexts: Mapping[str, str] = field(default_factory=dict)  # name -> dir | docker-image://
    no_cache: bool = False
    no_cache_filter: tuple[str, ...] = ()
    pull: bool = False
    privileged: bool = False
    cache_from: tuple[str, ...] = ()  # image references whose build cache to import
    git: str = ""  # a git URL context (compose.build.gitref's forms), fetched by the builder

    @property
    def dockerfile_path(self) -> Path | None:
        if self.dockerfile_inline is not None:
            return None
        path = Path(self.dockerfile)
        return path if path.is_absolute() else self.context / path

    @property
    def dockerfile_display(self) -> str:
        if self.dockerfile_inline is not None:
            return "Dockerfile (inline)"
        return self.dockerfile


def to_doc(request: BuildRequest) -> dict[str, Any] | None:
    """The request as JSON data (``from_doc`` gives it back); None when it holds secrets or
    agent sockets: those are read afresh for every build."""
    if request.secrets or request.ssh:
        return None
    doc = {name: getattr(request, name) for name in request.__struct_fields__}
    doc["context"] = str(request.context)
    doc["ulimits"] = [[u.name, u.soft, u.hard] for u in request.ulimits]
    for name in ("args", "labels", "contexts"):
        doc[name] = dict(doc[name])
    del doc["secrets"], doc["ssh"]
    return doc


def from_doc(doc: Mapping[str, Any]) -> BuildRequest:
    fields = dict(doc)
    fields["context"] = Path(fields["context"])
    fields["ulimits"] = tuple(Ulimit(*u) for u in fields["ulimits"])
    fields["extra_hosts"] = tuple(tuple(h) for h in fields["extra_hosts"])
    for name in ("tags", "no_cache_filter", "cache_from"):
        fields[name] = tuple(fields[name])
    return BuildRequest(**fields)


class Cancelled(BaseException):
    """The build was cancelled (Ctrl-C, or another service's build failed) while a step ran:
    nothing of that step is kept; finished steps are."""


class BuildResult(Struct, frozen=True):
    digest: str  # manifest digest
    image_id: str  # config digest, what ``images`` shows
    tags: tuple[str, ...]
    steps: int
    cached: int
    memo: str = ""  # the key of its compose.build.memo entry ("" when not remembered)
