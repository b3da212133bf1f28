"""The executor: a ``BuildPlan`` -> layers in the image store -> a tagged image.

    Builder(store, progress).build(BuildRequest(...)) -> BuildResult

Per stage (a thread each; at most ``SLOTS`` steps execute at once, stages the target does not
need were never planned): the base's layers and key, then for every step its cache key
(``cache.key_of``: parent key + definition + input contents), a cache lookup, and on a miss the
step itself: RUN in a container (``runstep``), COPY/ADD/WORKDIR into a new layer directory
(``filesteps``); the result is committed to the store (``ImageStore.publish_layer``: diff id =
sha256 of the layer's tar stream, the directory renamed into place, uncompressed) and recorded.
The diff id is computed in a thread while the stage makes its next step (``_Commit``: the
next step reads the layer from its temporary directory; a pass over every byte of a 30 MB
COPY overlaps the RUN after it).
The image is written last: config + history as BuildKit writes them, a manifest of local
layers, the tags.

Cancel (Ctrl-C): running containers are killed and removed, temporary directories deleted;
finished steps are recorded, so the next build reuses them. Layers are published by rename,
cache records after their layer: nothing is ever half there.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field
from msgspec.structs import replace

from compose.build import memo
from compose.build.buildnet import BuildNetwork
from compose.build.cache import BuildCache, Record, key_of
from compose.build.context import ContextView, FileHashes
from compose.build.copy import Reuse
from compose.build.filesteps import (
    Selection,
    SourceFS,
    copy_layer,
    scratch_dir,
    select_sources,
    selection_digest,
    workdir_layer,
)
from compose.build.frontend import (
    DockerfileError,
    FrontendOptions,
    plan_build,
    with_error_location,
)
from compose.build.ignore import IgnoreRules, PatternError
from compose.build.plan import (
    BuildPlan,
    CopyStep,
    RunMount,
    RunStep,
    Source,
    StagePlan,
    Step,
    WorkdirStep,
)
from compose.build.progress import Progress, Vertex
from compose.build.request import BuildRequest, BuildResult, Cancelled
from compose.build.rootview import RootView
from compose.build.threads import run_all, wait_out
from compose.errors import BuildError, ImageError, PycomposeError
from compose.images.model import Image
from compose.images.store import ImageStore

if TYPE_CHECKING:
    from compose.build import gitfetch
    from compose.build.runstep import RunEnv

SLOTS = 2  # steps executing at once (the project's machines have 2 cores)
CACHE_FIELD = "pycompose.cache.v1"  # per-layer cache keys in built images (cache_from)


class Layer(Struct, frozen=True):
    diff_id: str
    size: int
    path: Path
    created: str
    key: str | None = None  # the cache key that made it (None: a base image layer)


class StageResult(Struct):
    layers: list[Layer]
    key: str  # the chain key of the stage's rootfs
    config_doc: dict[str, Any] = field(default_factory=dict)  # the base image's (for history)


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Builder:
    def __init__(
        self,
        store: ImageStore | None = None,
        progress: Progress | None = None,
        runtime: Any = None,
    ) -> None:
        self.store = store or ImageStore()
        self.cache = BuildCache(self.store)
        self.progress = progress or Progress()
        self._runtime = runtime
        self._runtime_lock = threading.Lock()
        self._warming = False
        self._warmed = threading.Event()  # the warm-up thread has ended (close waits for it)
        self.cancel = threading.Event()
        self.slots = threading.Semaphore(SLOTS)
        self.images: dict[str, Image] = {}
        self._pull_lock = threading.Lock()
        self.warnings: list[str] = []

    @property
    def runtime(self) -> Any:
        with self._runtime_lock:
            if self._runtime is None:
                from compose.runtime.launcher import LinuxRuntime

                self._runtime = LinuxRuntime()
            return self._runtime

    def warm(self) -> None:
        """A step misses: start the runtime's zygote in the background (a RUN will need it)."""
        with self._runtime_lock:
            if self._warming:
                return
            self._warming = True
        threading.Thread(target=self._warm_runtime, daemon=True).start()

    def _warm_runtime(self) -> None:
        try:
            getattr(self.runtime, "warm", lambda: None)()
        finally:
            self._warmed.set()

    def close(self) -> None:
        """Stop the zygote, after the warm-up thread has ended: a build that never ran a RUN
        (COPY only) could otherwise reach the interpreter's exit while that thread still
        imported the runtime or forked the zygote (CI saw the build end with SIGSEGV, and the
        zygote would outlive the build)."""
        interrupted = self._warming and wait_out(self._warmed)
        if self._runtime is not None and hasattr(self._runtime, "close"):
            self._runtime.close()
        with contextlib.suppress(Exception):
            from compose import paths
            from compose.runtime import cgroups

            cgroups.detect().remove_if_empty(f"{paths.cgroup_root()}/build")
        if interrupted:
            raise KeyboardInterrupt

    # -- entry points -----------------------------------------------------------------------
    def plan(self, request: BuildRequest, *, local_only: bool = False) -> BuildPlan:
        return _Job(self, request, local_only=local_only).make_plan()

    def build(self, request: BuildRequest) -> BuildResult:
        with self.store.using():
            git: list[str] = []  # [url, commit] of a git context (the memo asks ls-remote again)
            if request.git:
                subject = f'service "{request.name}": build context' if request.name else "context"
                tree = self.git_checkout(request.git, subject)
                request = replace(request, context=tree.path)
                git = [request.git, tree.commit]
            watch = None
            if memo.eligible(request):  # stat before anything is read (see compose.build.memo)
                watch = memo.Watch(Path(os.path.realpath(request.context)), request.dockerfile_path)
            job = _Job(self, request)
            if git:  # replayed by the memo as the first line, as built
                job.shown.append((git_vertex(request.git), False))
            if watch is not None:
                watch.walk_context(job.context.prune_predicate())
            result = job.run()
            if watch is not None:
                result = self._remember(job, watch, result, git)
            return result

    def _remember(
        self, job: _Job, watch: memo.Watch, result: BuildResult, git: list[str]
    ) -> BuildResult:
        """Keep the memo entry of this build (or drop a stale one: see compose.build.memo)."""
        from compose.images import reference

        key = memo.request_key(job.req)
        tags = self.store.tags()
        images = {}
        for ref in job.used:
            name = str(reference.parse(ref))
            images[name] = tags.get(name)
        diff_ids = self.store.read_json(result.image_id).get("rootfs", {}).get("diff_ids", [])
        entry = None
        if not job.remote:
            entry = watch.entry(
                images,
                result.digest,
                list(result.tags),
                [result.digest, result.image_id],
                diff_ids,
                job.shown,
            )
        if entry is None:
            memo.forget(self.store.root, key)
            return result
        if git:
            entry["git"] = git
        memo.write(self.store.root, key, entry)
        return replace(result, memo=key)

    def git_checkout(
        self, value: str, subject: str, shown: bool = True, **options: Any
    ) -> gitfetch.Checkout:
        """The tree of the git reference ``value`` (``options`` override its URL's: keep_git_dir,
        checksum), fetched unless its commit is in the store's checkout cache; ``shown``: as
        its own progress line (BuildKit's ``[internal] load git source``)."""
        from compose.build import gitfetch, gitref

        try:
            ref = gitref.parse(value)
        except gitref.GitRefError as err:
            raise BuildError(f"{subject}: {gitref.redact(value)}: {err}") from None
        assert ref is not None
        ref = replace(ref, **{k: v for k, v in options.items() if v})
        fetch = partial(gitfetch.checkout, ref, self.cache.git_dir, self.store.tmp)
        if not shown:
            return fetch(subject, self.cancel)
        vertex = self.progress.vertex(git_vertex(value))
        vertex.start()
        try:
            tree = fetch(subject, self.cancel)
        except BaseException as err:
            vertex.fail("CANCELED" if isinstance(err, Cancelled) else str(err))
            raise
        vertex.done()
        return tree

    # -- images -----------------------------------------------------------------------------
    def image(self, ref: str, pull: bool, local_only: bool = False) -> Image:
        """A base or ``--from`` image, pulled once per build when missing (or when asked)."""
        from compose.images.ensure import ensure_image

        with self._pull_lock:
            if ref in self.images:
                return self.images[ref]
            policy = "always" if pull and not local_only else "missing"
            if local_only:
                image = self.store.resolve(ref)
            else:
                image = ensure_image(ref, policy=policy, store=self.store)
            self.images[ref] = image
            return image


def git_vertex(value: str) -> str:
    from compose.build.gitref import redact

    return f"[internal] load git source {redact(value)}"


def _store_tmp(store: ImageStore) -> Path:
    return store.tmp


class _Job:
    def __init__(self, builder: Builder, request: BuildRequest, local_only: bool = False):
        self.b = builder
        self.req = request
        self.local_only = local_only
        self.text = self._dockerfile_text()
        self.display = request.dockerfile_display
        try:
            rules = IgnoreRules.for_context(request.context, request.dockerfile_path)
        except PatternError as err:
            raise BuildError(f".dockerignore: {err}") from None
        self.context = ContextView(request.context, rules)
        self.contexts: dict[str, ContextView] = {}
        self.hashes = FileHashes(builder.cache.hash_file(self.context.root))
        self.results: dict[int, StageResult] = {}
        self.events: dict[int, threading.Event] = {}
        self.failure: BaseException | None = None
        self.steps = 0
        self.cached = 0
        self.pending_copies: dict[Path, tuple[str, dict[str, Any]]] = {}
        self.used: dict[str, Image] = {}  # images the build read (memo: a newer pull misses)
        self.shown: list[tuple[str, bool]] = []  # (progress line, is a step): memo replays
        self.remote = False  # an ADD of a URL or git repository (never remembered)
        self.network = BuildNetwork()  # joined at the first step to run (if a RUN needs it)
        self.runs_on_network = False

    def _vertex(self, name: str, step: bool = False) -> Vertex:
        self.shown.append((name, step))
        return self.b.progress.vertex(name)

    def _image(self, ref: str) -> Image:
        image = self.b.image(ref, self.req.pull, self.local_only)
        self.used[ref] = image
        return image

    def _dockerfile_text(self) -> str:
        if self.req.dockerfile_inline is not None:
            return self.req.dockerfile_inline
        path = self.req.dockerfile_path
        assert path is not None
        try:
            return path.read_text(encoding="utf-8", errors="surrogateescape")
        except FileNotFoundError:
            raise BuildError(
                f"failed to read dockerfile: open {path}: no such file or directory"
            ) from None
        except OSError as err:
            raise BuildError(f"failed to read dockerfile {path}: {err.strerror}") from None

    # -- planning ---------------------------------------------------------------------------
    def _named_contexts(self) -> dict[str, Source]:
        from compose.build import gitref
        from compose.images import reference

        out: dict[str, Source] = {}
        for name, value in self.req.contexts.items():
            if value.startswith("docker-image://"):
                out[name] = Source(
                    "image", str(reference.parse(value.removeprefix("docker-image://")))
                )
            elif gitref.is_git(value):
                path = self.b.git_checkout(value, f'additional context "{name}"').path
                self.contexts[name] = ContextView(
                    path, IgnoreRules.for_context(path), f"context {name}"
                )
                out[name] = Source("context", name)
            elif "://" in value:
                raise BuildError(
                    f'additional context "{name}": {gitref.redact(value)}: only git URLs, '
                    "docker-image:// and service: are supported as remote contexts"
                )
            else:
                path = Path(value)
                path = path if path.is_absolute() else self.req.context / path
                self.contexts[name] = ContextView(
                    path, IgnoreRules.for_context(path), f"context {name}"
                )
                out[name] = Source("context", name)
        return out

    def options(self) -> FrontendOptions:
        from compose.images.platform import host_platform

        return FrontendOptions(
            name=self.display,
            build_args=dict(self.req.args),
            target=self.req.target,
            platform=host_platform(),
            named_contexts=self._named_contexts(),
            labels=dict(self.req.labels),
            network=self.req.network or "default",
            privileged=self.req.privileged,
            no_cache=self.req.no_cache,
            no_cache_filter=self.req.no_cache_filter,
        )

    def _resolve(self, ref: str) -> dict[str, Any]:
        if ref in self.b.images:
            self.used[ref] = self.b.images[ref]
            return self.b.store.read_json(self.b.images[ref].config_digest)
        vertex = self._vertex(f"[internal] load metadata for {ref}").start()
        try:
            image = self._image(ref)
        except (ImageError, PycomposeError) as err:
            vertex.fail(str(err))
            raise LookupError(f"{ref}: {err}") from None
        vertex.done()
        return self.b.store.read_json(image.config_digest)

    def make_plan(self) -> BuildPlan:
        try:
            return plan_build(self.text, self.options(), self._resolve)
        except DockerfileError as err:
            raise BuildError(with_error_location(err, self.display)) from None

    # -- running ----------------------------------------------------------------------------
    def run(self) -> BuildResult:
        self._import_cache_from()
        plan = self.make_plan()
        self.remote = any(
            isinstance(step, CopyStep) and step.is_add and any(map(memo.remote, step.sources))
            for stage in plan.stages
            for step in stage.steps
        )
        self.runs_on_network = any(
            isinstance(step, RunStep) and step.network == "default"
            for stage in plan.stages
            for step in stage.steps
        )
        for stage in plan.stages:
            self.events[stage.index] = threading.Event()
        try:
            run_all([partial(self._stage_thread, plan, s) for s in plan.stages], self.b.cancel)
        finally:
            self.network.close()
            with contextlib.suppress(OSError):
                self.hashes.save()
        if self.failure is not None:
            raise self.failure
        if plan.target not in self.results:
            raise Cancelled()
        return self._write_image(plan)

    def _stage_thread(self, plan: BuildPlan, stage: StagePlan) -> None:
        try:
            for need in stage.needs:
                while not self.events[need].wait(0.2):
                    if self.b.cancel.is_set():
                        return
                if need not in self.results:
                    return  # that stage failed: its error is reported
            self.results[stage.index] = self._stage(stage)
        except Cancelled:
            pass
        except BaseException as err:
            if self.failure is None:
                self.failure = err
            self.b.cancel.set()
        finally:
            self.events[stage.index].set()

    def _base(self, stage: StagePlan) -> StageResult:
        base = stage.base
        if base is None:
            return StageResult([], key_of("scratch", stage.platform))
        if base.kind == "stage":
            parent = self.results[base.stage]
            return StageResult(list(parent.layers), parent.key, parent.config_doc)
        image = self._image(base.name)
        doc = self.b.store.read_json(image.config_digest)
        manifest = self.b.store.read_json(image.digest)
        diff_ids = doc.get("rootfs", {}).get("diff_ids", [])
        sizes = [int(layer.get("size", 0)) for layer in manifest.get("layers", [])]
        layers = [
            Layer(d, n, p, "") for d, n, p in zip(diff_ids, sizes, image.layers, strict=False)
        ]
        return StageResult(layers, key_of("image", image.config_digest), doc)

    def _stage(self, stage: StagePlan) -> StageResult:
        result = self._base(stage)
        if stage.base is not None and stage.base.kind == "image":
            ref = stage.base.name
            image = self.b.images.get(ref)
            shown = f"FROM {ref}" + (f"@{image.digest}" if image and "@" not in ref else "")
            self._vertex(f"{stage.prefix(1, self.req.name)} {shown}").start().done()
        pending: list[_Commit] = []
        try:
            for step in stage.steps:
                if self.b.cancel.is_set():
                    raise Cancelled()
                name = f"{stage.prefix(step.number, self.req.name)} {step.display}"
                layer = self._step(step, result, self._vertex(name, step=True), name, pending)
                result.layers.append(layer)
                result.key = _chain(result.key, layer, step)
        finally:
            self._settle(pending, result)
        return result

    def _step(
        self, step: Step, base: StageResult, vertex: Vertex, name: str, pending: list[_Commit]
    ) -> Layer:
        self.steps += 1
        scratch: list[Path] = []
        try:
            return self._run_step(step, base, vertex, name, scratch, pending)
        finally:
            for path in scratch:
                shutil.rmtree(path, ignore_errors=True)

    def _run_step(
        self,
        step: Step,
        base: StageResult,
        vertex: Vertex,
        name: str,
        scratch: list[Path],
        pending: list[_Commit],
    ) -> Layer:
        try:
            key, make = self._prepare(step, base, name, scratch)
        except BuildError as err:
            vertex.start().fail(str(err))
            raise
        record = None if step.no_cache else self.b.cache.get(key)
        if record is not None:
            self.cached += 1
            vertex.cached()
            return self._layer(record, key)
        vertex.start()
        self.b.warm()
        if self.runs_on_network:
            self.network.warm()
        claim = self.b.cache.lock(key)
        if not claim.acquire(blocking=False):  # another build makes it: never wait holding one
            self._settle(pending, base)
            claim.acquire()
        try:
            record = None if step.no_cache else self.b.cache.get(key)
            if record is not None:  # another build made it meanwhile
                claim.release()
                self.cached += 1
                vertex.cached()
                return self._layer(record, key)
            with self.b.slots:
                layer_dir = make(vertex)
        except BaseException as err:
            if claim.locked():
                claim.release()
            vertex.fail("CANCELED" if isinstance(err, Cancelled) else str(err).split("\n")[0])
            raise
        self._settle(pending, base)  # the previous step's commit ran while this one was made
        commit = _Commit(self, layer_dir, key, claim, len(base.layers))
        pending.append(commit)
        vertex.done()
        return Layer("", 0, layer_dir, commit.created, key)

    def _layer(self, record: Record, key: str) -> Layer:
        path = self.b.store.layer_path(record.diff_id)
        return Layer(record.diff_id, record.size, path, record.created, key)

    def _settle(self, pending: list[_Commit], result: StageResult) -> None:
        """Finish the stage's commits in flight: publish each layer, record it in the cache,
        put its final path in ``result`` (nothing uses the temporary one any more)."""
        errors = []
        while pending:
            commit = pending.pop(0)
            try:
                record = commit.finish()
            except BaseException as err:
                errors.append(err)
                continue
            if commit.index < len(result.layers):
                result.layers[commit.index] = self._layer(record, commit.key)
        if errors:
            raise errors[0]

    def _publish(self, layer_dir: Path, key: str, diff_id: str, size: int, created: str) -> Record:
        copied = self.pending_copies.pop(layer_dir, None)
        try:
            self.b.store.publish_layer(layer_dir, diff_id)
        finally:
            shutil.rmtree(layer_dir, ignore_errors=True)
        record = Record(diff_id, size, created)
        self.b.cache.put(key, record)
        if copied is not None:
            self.b.cache.save_copy(copied[0], diff_id, copied[1])
        return record

    # -- the three kinds of steps -----------------------------------------------------------
    def _prepare(
        self, step: Step, base: StageResult, name: str, scratch: list[Path]
    ) -> tuple[str, Callable[[Vertex], Path]]:
        """(cache key, the function that makes the layer directory on a miss)."""
        if isinstance(step, RunStep):
            return self._prepare_run(step, base, name)
        if isinstance(step, CopyStep):
            return self._prepare_copy(step, base, name, scratch)
        assert isinstance(step, WorkdirStep)
        key = key_of("workdir", base.key, step.path, step.user)

        def make(vertex: Vertex) -> Path:
            out = self._new_dir("workdir")
            try:
                workdir_layer(step, RootView([la.path for la in base.layers]), out)
            except BaseException:
                shutil.rmtree(out, ignore_errors=True)
                raise
            return out

        return key, make

    def _new_dir(self, kind: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=_store_tmp(self.b.store)))

    def _source_fs(self, origin: Source, name: str) -> SourceFS:
        if origin.kind == "context":
            view = self.contexts.get(origin.name, self.context) if origin.name else self.context
            return SourceFS(context=view)
        if origin.kind == "stage":
            result = self.results.get(origin.stage)
            if result is None:
                raise BuildError(f"{name}: stage {origin.stage} was not built")
            return SourceFS(
                root=RootView([la.path for la in result.layers]), ident=f"stage {origin.stage}"
            )
        if origin.kind == "image":
            image = self._image(origin.name)
            return SourceFS(root=RootView(list(image.layers)), ident=f"image {origin.name}")
        return SourceFS(root=RootView([]), ident="scratch")

    def _origin_ident(self, origin: Source) -> str:
        if origin.kind == "stage":
            return self.results[origin.stage].key
        if origin.kind == "image":
            return self._image(origin.name).config_digest
        return origin.kind

    def _prepare_copy(
        self, step: CopyStep, base: StageResult, name: str, scratch: list[Path]
    ) -> tuple[str, Callable[[Vertex], Path]]:
        fs = self._source_fs(step.origin, name)
        work = Path(tempfile.mkdtemp(prefix="copysrc-", dir=_store_tmp(self.b.store)))
        scratch.append(work)
        git = partial(self._git_source, step, name)
        selections = select_sources(step, fs, work, name, git)
        inputs = selection_digest(selections, fs, self.hashes)
        if fs.context is None:
            inputs = key_of(self._origin_ident(step.origin), inputs)
        definition = _definition(step)
        parent = None if step.link else base.key
        key = key_of("copy", parent, definition, inputs)
        identity = key_of("copy-identity", parent, definition, step.origin.kind)

        def make(vertex: Vertex) -> Path:
            out = self._new_dir("copy")
            reuse = self._reuse(identity, fs)
            try:
                lower = None if step.link else RootView([la.path for la in base.layers])
                copy_layer(step, selections, lower, out, name, reuse)
            except BaseException:
                shutil.rmtree(out, ignore_errors=True)
                raise
            if reuse is not None:
                self.pending_copies[out] = (identity, reuse.written)
            return out

        return key, make

    def _git_source(self, step: CopyStep, name: str, src: str) -> Path:
        """An ADD's git source: its checkout (``--keep-git-dir`` and ``--checksum`` apply)."""
        return self.b.git_checkout(
            src, name, shown=False, keep_git_dir=step.keep_git_dir, checksum=step.checksum
        ).path

    def _reuse(self, identity: str, fs: SourceFS) -> Reuse | None:
        """Hard-link reuse of the last run of this COPY (context sources: their digests are
        known from the cache key)."""
        if fs.context is None:
            return None
        layer, files = self.b.cache.last_copy(identity)
        hashes = self.hashes

        def digest(entry: Any) -> str | None:
            return hashes.digest(entry.path, entry.st)

        return Reuse(layer, files, digest)

    def _prepare_run(
        self, step: RunStep, base: StageResult, name: str
    ) -> tuple[str, Callable[[Vertex], Path]]:
        inputs = []
        binds: list[tuple[RunMount, SourceFS, list[Any]]] = []
        for mount in step.mounts:
            if mount.type != "bind":
                continue
            fs = self._source_fs(mount.origin, name)
            copy = CopyStep(0, "", 0, False, sources=(mount.source,), dest="/", origin=mount.origin)
            selections = select_sources(copy, fs, _store_tmp(self.b.store), name)
            digest = selection_digest(selections, fs, self.hashes)
            ident = self._origin_ident(mount.origin) if fs.context is None else "context"
            inputs.append(key_of(mount.target, ident, digest))
            binds.append((mount, fs, selections))
        key = key_of("run", base.key, _definition(step), inputs)

        def make(vertex: Vertex) -> Path:
            with contextlib.ExitStack() as stack:
                sources = {}
                for mount, _fs, selections in binds:
                    sources[mount.target] = self._bind_source(stack, mount, selections, name)
                env = self._run_env()
                from compose.build import runstep

                inputs_ = runstep.RunInputs(
                    [la.path for la in base.layers], sources, name, vertex.log
                )
                layer: Path = runstep.run(step, env, inputs_)
                return layer

        return key, make

    def _bind_source(
        self, stack: contextlib.ExitStack, mount: RunMount, selections: list[Selection], name: str
    ) -> Path:
        """A private copy of what a bind mount shows (the RUN never sees the real files)."""
        out: Path = stack.enter_context(scratch_dir(_store_tmp(self.b.store)))
        copy = CopyStep(0, "", 0, False, sources=(mount.source,), dest="/", origin=mount.origin)
        copy_layer(copy, selections, None, out, name)
        if len(selections) == 1 and not selections[0].entries[0].is_dir:
            return out / selections[0].name
        return out

    def _run_env(self) -> RunEnv:
        from compose.build.runstep import RunEnv

        return RunEnv(
            runtime=self.b.runtime,
            tmp=_store_tmp(self.b.store),
            cache_mounts=self.b.cache.mount_dir,
            secrets=self.req.secrets,
            ssh=self.req.ssh,
            extra_hosts=self.req.extra_hosts,
            shm_size=self.req.shm_size,
            ulimits=self.req.ulimits,
            cancel=self.b.cancel,
            network=self.network,
        )

    # -- cache_from -------------------------------------------------------------------------
    def _import_cache_from(self) -> None:
        for ref in self.req.cache_from:
            try:
                image = self.b.image(ref, pull=False, local_only=self.local_only)
            except (ImageError, PycomposeError) as err:
                self.b.warnings.append(f"cache_from {ref}: {err}")
                continue
            doc = self.b.store.read_json(image.config_digest)
            keys = doc.get(CACHE_FIELD) or []
            diff_ids = doc.get("rootfs", {}).get("diff_ids", [])
            for key, diff_id in zip(keys, diff_ids, strict=False):
                if (
                    key
                    and self.b.cache.get(key) is None
                    and self.b.store.layer_path(diff_id).is_dir()
                ):
                    self.b.cache.put(key, Record(diff_id, 0, doc.get("created", now())))

    # -- the image --------------------------------------------------------------------------
    def _write_image(self, plan: BuildPlan) -> BuildResult:
        stage = plan.target_stage
        result = self.results[stage.index]
        vertex = self._vertex("exporting to image").start()
        doc = image_document(stage, result)
        from compose.images import reference

        tags = [str(reference.parse(t)) for t in self.req.tags]
        digest = self.b.store.write_image(
            doc, [(la.diff_id, la.size) for la in result.layers], tags
        )
        config_digest = self.b.store.read_json(digest)["config"]["digest"]
        vertex.done()
        return BuildResult(digest, config_digest, tuple(tags), self.steps, self.cached)


class _Commit:
    """A made layer being committed: its diff id (the sha256 of its tar stream, a pass over
    every byte) is computed in a thread while the stage makes its next step, which reads the
    layer from its temporary directory; ``finish`` publishes it into the store and releases
    the step's cache claim (held till then: a build sharing the step waits and finds it)."""

    def __init__(self, job: _Job, layer_dir: Path, key: str, claim: threading.Lock, index: int):
        self.job = job
        self.layer_dir = layer_dir
        self.key = key
        self.claim = claim
        self.index = index  # its place in the stage's layers
        self.created = now()
        self.done = threading.Event()
        self.digest: tuple[str, int] | None = None
        self.error: BaseException | None = None
        threading.Thread(target=self._hash, daemon=True).start()

    def _hash(self) -> None:
        from compose.images.layertar import diff_id

        try:
            self.digest = diff_id(self.layer_dir)
        except BaseException as err:
            self.error = err
        finally:
            self.done.set()

    def finish(self) -> Record:
        try:
            while not self.done.wait(0.2):
                pass
            if self.error is not None or self.digest is None:
                shutil.rmtree(self.layer_dir, ignore_errors=True)
                raise self.error or BuildError(f"{self.layer_dir}: layer not hashed")
            diff_id, size = self.digest
            return self.job._publish(self.layer_dir, self.key, diff_id, size, self.created)
        finally:
            self.claim.release()


def _chain(parent: str, layer: Layer, step: Step) -> str:
    if isinstance(step, CopyStep) and step.link:
        return key_of("chain", parent, layer.key)
    return layer.key or parent


def _definition(step: Step) -> dict[str, Any]:
    """The step's fields that decide its result (progress names and line numbers do not)."""
    out = {}
    for name in step.__struct_fields__:
        if name in ("line", "display", "number", "no_cache", "proxy_env"):
            continue
        out[name] = getattr(step, name)
    return out


def image_document(stage: StagePlan, result: StageResult) -> dict[str, Any]:
    """The image config blob: BuildKit's fields, history with created times, cache keys."""
    os_name, _, rest = stage.platform.partition("/")
    arch, _, variant = rest.partition("/")
    history = [dict(h) for h in stage.base_history]
    new_layers = [la for la in result.layers if la.key is not None]
    times = [la.created for la in new_layers]
    fallback = times[0] if times else now()
    created = fallback
    layer_iter = iter(times)
    for entry in stage.history:
        if not entry.empty_layer:
            created = next(layer_iter, created)
        item: dict[str, Any] = {
            "created": created,
            "created_by": entry.created_by,
            "comment": entry.comment,
        }
        if entry.empty_layer:
            item["empty_layer"] = True
        history.append(item)
    doc: dict[str, Any] = {
        "architecture": arch,
        "os": os_name,
        "config": stage.config,
        "created": created,
        "history": history,
        "rootfs": {"type": "layers", "diff_ids": [la.diff_id for la in result.layers]},
        CACHE_FIELD: [la.key for la in result.layers],
    }
    if variant:
        doc["variant"] = variant
    if stage.author:
        doc["author"] = stage.author
    return doc
