"""The build plan: what the front end decided, fully expanded, before anything runs.

``BuildPlan.stages`` lists the stages the target needs (others are never built); each
``StagePlan`` has its base (an image, an earlier stage or scratch), its steps (the
instructions that make layers: RUN, COPY/ADD, WORKDIR) and the image it ends with (config +
history, BuildKit's format). Metadata instructions (ENV, LABEL, CMD, ...) only change that
config; they make no step. Every value here is final: variables are expanded, paths are
absolute, names are resolved to stage indexes, so the executor and the cache keys need no
Dockerfile knowledge.

The plan's records, like the instructions', are frozen ``msgspec.Struct`` classes rather than
dataclasses: Python 3.11 makes a dataclass by compiling its methods from source, ~1.4 ms a
class on this machine, and a ``build`` imports 33 of them on its way to the first step
(~48 ms of a one-file rebuild's ~1 s); a Struct class is made in C in ~0.02 ms. They compare,
hash, pickle and print like frozen dataclasses; ``msgspec.structs.replace``/``asdict`` stand
for ``dataclasses``' (the cache keys, ``compose.build.cache.key_of``, are the same JSON).
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct


class Source(Struct, frozen=True):
    """Where files come from: the build context (``kind="context"``, ``name`` a named/additional
    context or ""), an earlier stage (``stage``) or an image (``image``)."""

    kind: str  # context | stage | image
    name: str = ""  # context name ("" = the main context) or image reference
    stage: int = -1

    def describe(self) -> str:
        if self.kind == "stage":
            return f"stage {self.stage}"
        if self.kind == "image":
            return f"image {self.name}"
        return f"context {self.name}" if self.name else "context"


CONTEXT = Source("context")


class RunMount(Struct, frozen=True):
    type: str  # bind | cache | tmpfs | secret | ssh
    target: str
    source: str = ""
    origin: Source = CONTEXT  # bind/cache ``from=``
    read_only: bool = True
    id: str = ""
    sharing: str = "shared"
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int = 0
    required: bool = False
    env: str = ""  # secret: also (or only) expose it as this env var


class InlineFile(Struct, frozen=True):
    path: str
    data: str
    mode: int = 0o644


class Step(Struct, frozen=True):
    """One layer-making instruction. ``display`` is BuildKit's progress name without the
    ``[stage i/N]`` prefix; ``number`` is i."""

    line: int
    display: str
    number: int
    no_cache: bool

    @property
    def kind(self) -> str:
        return type(self).__name__.removesuffix("Step").upper()


class RunStep(Step, frozen=True):
    argv: tuple[str, ...] = ()
    env: tuple[str, ...] = ()  # K=V, image env + declared ARGs (in the cache key)
    proxy_env: tuple[str, ...] = ()  # predefined proxy args not declared (not in the key)
    user: str = ""
    workdir: str = "/"
    network: str = "default"
    privileged: bool = False
    mounts: tuple[RunMount, ...] = ()
    files: tuple[InlineFile, ...] = ()  # heredoc scripts mounted read-only at /dev/pipes


class CopyStep(Step, frozen=True):
    sources: tuple[str, ...] = ()
    inline: tuple[InlineFile, ...] = ()
    dest: str = "/"  # absolute; a trailing "/" means "a directory"
    origin: Source = CONTEXT
    chown: str = ""
    chmod: str = ""
    link: bool = False
    parents: bool = False
    excludes: tuple[str, ...] = ()
    is_add: bool = False
    checksum: str = ""
    unpack: bool | None = None
    keep_git_dir: bool = False


class WorkdirStep(Step, frozen=True):
    path: str = "/"
    user: str = ""


class HistoryEntry(Struct, frozen=True):
    created_by: str
    empty_layer: bool
    comment: str = "buildkit.dockerfile.v0"


class StagePlan(Struct, frozen=True):
    index: int
    name: str  # "" for an unnamed stage
    base: Source | None  # None = scratch
    base_ref: str  # as FROM names it after expansion ("busybox:latest", "scratch")
    base_line: int
    steps: tuple[Step, ...]
    config: dict[str, Any]  # the image config's "config" object after the stage
    history: tuple[HistoryEntry, ...]  # this stage's entries (after the base's)
    platform: str
    author: str = ""
    label: str = ""  # progress prefix: "stage-1", the name, or "" for a single stage
    total: int = 0  # BuildKit's cmdTotal (FROM of an image counts 1)
    needs: frozenset[int] = frozenset()  # stages this one reads (base, --from, mounts)
    base_history: tuple[dict[str, Any], ...] = ()  # the base image's history (for an image)
    base_display: str = ""

    def prefix(self, number: int, service: str = "") -> str:
        width = len(str(self.total)) if self.total else 1
        parts = [p for p in (service, self.label) if p]
        parts.append(f"{number:>{width}}/{self.total}")
        return "[" + " ".join(parts) + "]"


class BuildPlan(Struct, frozen=True):
    stages: tuple[StagePlan, ...]  # the stages the target needs, in file order
    target: int  # index of the target stage
    dockerfile: str  # display name ("Dockerfile", "web/Dockerfile")
    warnings: tuple[str, ...] = ()
    images: tuple[str, ...] = ()  # images FROM/--from need

    def stage(self, index: int) -> StagePlan:
        for stage in self.stages:
            if stage.index == index:
                return stage
        raise KeyError(index)

    @property
    def target_stage(self) -> StagePlan:
        return self.stage(self.target)
