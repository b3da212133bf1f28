"""Dockerfile + build options -> ``BuildPlan`` (pure: image configs come from ``resolve``).

The rules are BuildKit's dispatcher (``dockerfile2llb``):

- ARGs before the first FROM are global: usable in FROM lines only, and inside a stage once
  redeclared (``ARG NAME`` without a value takes the global value); ``--build-arg`` values win
  over defaults; the automatic platform ARGs (``TARGETPLATFORM``, ``BUILDARCH``...) are global;
- an ARG is in effect from its line on, is exported to every later RUN (and so enters RUN's
  cache key), and shows in RUN's history as ``|N k=v ...``; ENV of the same name wins;
- predefined proxy ARGs (``HTTP_PROXY``...) reach RUN without a declaration but stay out of its
  cache key and history;
- every substitution in one instruction sees the values from before it;
- which instructions expand variables, the CMD/ENTRYPOINT shell wrapping and the reset of an
  inherited CMD by ENTRYPOINT, WORKDIR relative to the previous one, ONBUILD triggers run
  right after a downstream FROM;
- only the stages the target needs (its base chain, ``COPY --from``, ``RUN --mount from=``)
  are planned.

Errors are ``DockerfileError`` naming ``Dockerfile:LINE`` and the instruction.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any

from msgspec import Struct, field
from msgspec.structs import replace

from compose.build import gofmt, instructions as ins
from compose.build.imagestate import ImageState
from compose.build.lexer import Lexer, LexError
from compose.build.parser import Dockerfile, ParseError, parse
from compose.build.plan import (
    CONTEXT,
    BuildPlan,
    CopyStep,
    InlineFile,
    RunMount,
    RunStep,
    Source,
    StagePlan,
    Step,
    WorkdirStep,
)
from compose.build.runmount import MountError, parse_mount

PROXY_ARGS = ("http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy")
SIGNALS = {
    "ABRT": 6, "ALRM": 14, "BUS": 7, "CHLD": 17, "CLD": 17, "CONT": 18, "FPE": 8, "HUP": 1,
    "ILL": 4, "INT": 2, "IO": 29, "IOT": 6, "KILL": 9, "PIPE": 13, "POLL": 29, "PROF": 27,
    "PWR": 30, "QUIT": 3, "SEGV": 11, "STKFLT": 16, "STOP": 19, "SYS": 31, "TERM": 15,
    "TRAP": 5, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "USR1": 10, "USR2": 12,
    "VTALRM": 26, "WINCH": 28, "XCPU": 24, "XFSZ": 25,
}  # fmt: skip
MAX_LAYERS = 500  # overlayfs stacks at most 500 lower directories
_CHMOD_SYMBOLIC = re.compile(
    r"^([ugoa]*([-+=]([rwxXst]*|[ugo]))+)(,[ugoa]*([-+=]([rwxXst]*|[ugo]))+)*$"
)


class DockerfileError(ValueError):
    def __init__(self, message: str, line: int = 0, instruction: str = "") -> None:
        super().__init__(message)
        self.message, self.line, self.instruction = message, line, instruction


class FrontendOptions(Struct, frozen=True):
    name: str = "Dockerfile"
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str = ""
    platform: str = "linux/amd64"  # the host's: the only one pycompose builds
    named_contexts: Mapping[str, Source] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    network: str = "default"
    privileged: bool = False  # build.privileged: allows RUN --security=insecure
    no_cache: bool = False
    no_cache_filter: tuple[str, ...] = ()


ImageResolver = Callable[[str], dict[str, Any]]  # normalized ref -> image config document


def plan_build(text: str, options: FrontendOptions, resolve: ImageResolver) -> BuildPlan:
    try:
        dockerfile = parse(text)
        stages, meta = ins.parse_stages(dockerfile)
    except ParseError as err:
        raise DockerfileError(err.message, err.line) from None
    return _Planner(dockerfile, stages, meta, options, resolve).plan()


def platform_args(platform: str, target: str) -> dict[str, str]:
    os_name, _, rest = platform.partition("/")
    arch, _, variant = rest.partition("/")
    return {
        "BUILDPLATFORM": platform, "BUILDOS": os_name, "BUILDOSVERSION": "",
        "BUILDARCH": arch, "BUILDVARIANT": variant,
        "TARGETPLATFORM": platform, "TARGETOS": os_name, "TARGETOSVERSION": "",
        "TARGETARCH": arch, "TARGETVARIANT": variant, "TARGETSTAGE": target or "default",
    }  # fmt: skip


def normalize_platform(text: str) -> str:
    parts = text.lower().split("/")
    if len(parts) == 3 and parts[1] == "arm64" and parts[2] == "v8":
        parts = parts[:2]
    if len(parts) == 1:
        parts = ["linux", parts[0]]
    return "/".join(parts)


class _Planner:
    def __init__(
        self,
        dockerfile: Dockerfile,
        stages: list[ins.Stage],
        meta: list[ins.Arg],
        options: FrontendOptions,
        resolve: ImageResolver,
    ) -> None:
        self.dockerfile = dockerfile
        self.stages = stages
        self.options = options
        self.resolve = resolve
        self.lexer = Lexer(dockerfile.escape)
        self.names: dict[str, int] = {}
        self.bases: dict[int, str] = {}  # stage index -> expanded FROM name
        self.base_stages: dict[int, int] = {}  # stage index -> the earlier stage it is FROM
        self.target = -1
        self.states: dict[int, ImageState] = {}
        self.plans: dict[int, StagePlan] = {}
        target_name = options.target or stages[-1].name
        self.global_args = self._meta_args(meta, platform_args(options.platform, target_name))

    def fail(
        self, message: str, node: ins.Instruction | ins.Stage | None = None
    ) -> DockerfileError:
        if isinstance(node, ins.Stage):
            return DockerfileError(message, node.line, node.code)
        if node is not None:
            return DockerfileError(message, node.line, node.code)
        return DockerfileError(message)

    # -- global ARGs ------------------------------------------------------------------------
    def _meta_args(self, meta: list[ins.Arg], defaults: dict[str, str]) -> dict[str, str]:
        args = {k: self.options.build_args.get(k, v) for k, v in defaults.items()}
        for command in meta:
            for arg in command.args:
                if arg.key in self.options.build_args:
                    args[arg.key] = self.options.build_args[arg.key]
                elif arg.default is not None:
                    args[arg.key] = self._word(arg.default, args, command)
        return args

    def _word(self, text: str, env: Mapping[str, str], node: Any) -> str:
        try:
            return self.lexer.word(text, env)
        except LexError as err:
            raise self.fail(str(err), node) from None

    # -- stage graph ------------------------------------------------------------------------
    def plan(self) -> BuildPlan:
        for stage in self.stages:
            self._register(stage)
        target = self.target = self._target()
        needed = self._reachable(target)
        for stage in self.stages:
            if stage.index in needed:
                self.plans[stage.index] = self._dispatch(stage)
        plans = tuple(self.plans[i] for i in sorted(self.plans))
        images = tuple(
            dict.fromkeys(
                src.name for p in plans for src in _sources(p) if src and src.kind == "image"
            )
        )
        return BuildPlan(
            plans,
            target,
            self.options.name,
            tuple(w.message for w in self.dockerfile.warnings),
            images,
        )

    def _register(self, stage: ins.Stage) -> None:
        base = self._word(stage.base, self.global_args, stage)
        if not base:
            raise self.fail(f"base name ({stage.base}) should not be blank", stage)
        if stage.platform:
            wanted = self._word(stage.platform, self.global_args, stage)
            if not wanted:
                raise self.fail(f"empty platform value from expression {stage.platform}", stage)
            if normalize_platform(wanted) != normalize_platform(self.options.platform):
                raise self.fail(
                    f"platform {wanted} is not supported: pycompose builds for the host "
                    f"platform ({self.options.platform}) only",
                    stage,
                )
        self.bases[stage.index] = base
        earlier = self.names.get(base.lower())
        if earlier is not None:
            self.base_stages[stage.index] = earlier
        if stage.name:
            self.names[stage.name] = stage.index

    def _target(self) -> int:
        if not self.options.target:
            return self.stages[-1].index
        found = self.names.get(self.options.target.lower())
        if found is None:
            names = ", ".join(s.name for s in self.stages if s.name) or "none"
            raise DockerfileError(
                f'target stage "{self.options.target}" could not be found (stages: {names})'
            )
        return found

    def _stage_ref(self, name: str, before: int) -> int | None:
        """The stage ``name`` (a name or an index) refers to, if it is one defined earlier."""
        if name.isdigit():
            index = int(name)
            if index >= len(self.stages):
                raise DockerfileError(f"invalid stage index {index}")
            return index
        found = self.names.get(name.lower())
        return found if found is not None and found < before else None

    def _base_stage(self, stage: ins.Stage) -> int | None:
        return self.base_stages.get(stage.index)

    def _reachable(self, target: int) -> set[int]:
        seen: set[int] = set()
        todo = [target]
        while todo:
            index = todo.pop()
            if index in seen:
                continue
            seen.add(index)
            stage = self.stages[index]
            base = self._base_stage(stage)
            if base is not None:
                todo.append(base)
            todo.extend(self._command_deps(stage))
        return seen

    def _command_deps(self, stage: ins.Stage) -> list[int]:
        deps = []
        for command in stage.commands:
            for name in _from_names(command):
                if name in self.options.named_contexts:
                    continue
                found = self._stage_ref(name, len(self.stages))
                if found is not None:
                    deps.append(found)
        return deps

    # -- one stage --------------------------------------------------------------------------
    def _initial_state(self, stage: ins.Stage) -> tuple[ImageState, Source | None, str]:
        base_name = self.bases[stage.index]
        base_stage = self._base_stage(stage)
        if base_stage is not None:
            if base_stage not in self.states:
                raise self.fail(f"base stage {base_name!r} is not built before this one", stage)
            return self.states[base_stage].child(), Source("stage", stage=base_stage), base_name
        named = self.options.named_contexts.get(base_name)
        if named is not None and named.kind == "image":
            base_name = named.name
        elif named is not None:
            raise self.fail(f"FROM {base_name}: a context directory cannot be a base image", stage)
        if base_name.lower() == "scratch":
            return ImageState.scratch(self.options.platform), None, "scratch"
        ref = _normalize_ref(base_name, stage, self)
        try:
            doc = self.resolve(ref)
        except LookupError as err:
            raise self.fail(str(err), stage) from None
        state = ImageState.from_image(doc)
        if not (doc.get("rootfs") or {}).get("diff_ids") and not any(
            not h.get("empty_layer") for h in doc.get("history") or []
        ):
            return state, None, ref  # an image without layers is scratch
        return state, Source("image", ref), ref

    def _onbuild_triggers(self, stage: ins.Stage, state: ImageState) -> list[ins.Instruction]:
        triggers = list(state.config.pop("OnBuild", None) or [])
        base_stage = self._base_stage(stage)
        if base_stage is not None:
            triggers = [
                c.expression for c in self.stages[base_stage].commands if isinstance(c, ins.Onbuild)
            ]
        out: list[ins.Instruction] = []
        for text in triggers:
            try:
                nodes = parse(text).nodes
                if len(nodes) != 1:
                    raise ValueError("onbuild trigger should be a single expression")
                node = nodes[0]
                node.start_line = node.end_line = stage.line
                out.append(ins.parse_instruction(node))
            except (ParseError, ValueError) as err:
                raise self.fail(f"ONBUILD trigger: {err}", stage) from None
        return out

    def _dispatch(self, stage: ins.Stage) -> StagePlan:
        state, base, base_ref = self._initial_state(stage)
        triggers = self._onbuild_triggers(stage, state)
        self._check_layers(stage, state, triggers)
        label = "" if len(self.stages) == 1 else stage.display_name
        counter = _Counter(total=self._total(stage, base, triggers))
        if base is not None and base.kind == "image":
            counter.next()  # FROM <image> is step 1
        dispatcher = _Dispatch(self, stage, state, counter)
        for command in triggers:
            dispatcher.run(command, onbuild=True)
        for command in stage.commands:
            dispatcher.run(command)
        if stage.index == self.target:
            for key, value in self.options.labels.items():
                state.set_label(key, value)
        self.states[stage.index] = state
        steps = tuple(dispatcher.steps)
        state.layers += len(steps)
        return StagePlan(
            index=stage.index,
            name=stage.name,
            base=base,
            base_ref=base_ref,
            base_line=stage.line,
            steps=steps,
            config=state.final_config(),
            history=tuple(state.history),
            platform=f"{state.os}/{state.architecture}"
            + (f"/{state.variant}" if state.variant else ""),
            author=state.author,
            label=label,
            total=counter.total,
            needs=frozenset(
                dispatcher.needs | ({base.stage} if base and base.kind == "stage" else set())
            ),
            base_history=tuple(state.base_history),
            base_display=f"FROM {base_ref}",
        )

    def _check_layers(
        self, stage: ins.Stage, state: ImageState, triggers: list[ins.Instruction]
    ) -> None:
        """Refuse, before anything runs, an image deeper than overlayfs can stack."""
        commands = [*triggers, *stage.commands]
        layers = state.layers + sum(1 for c in commands if c.makes_layer)
        if layers > MAX_LAYERS:
            raise self.fail(
                f"the image would have {layers} layers; overlayfs stacks at most {MAX_LAYERS}",
                stage,
            )

    def _total(self, stage: ins.Stage, base: Source | None, triggers: list[ins.Instruction]) -> int:
        total = 1 if base is not None and base.kind == "image" else 0
        total += sum(1 for c in stage.commands if isinstance(c, ins.Run | ins.Copy | ins.Workdir))
        return total + len(triggers)

    def source_for(self, name: str, before: int, node: ins.Instruction) -> Source:
        """What ``--from=name`` / ``from=name`` reads: a named context, a stage or an image."""
        if name in self.options.named_contexts:
            return self.options.named_contexts[name]
        found = self._stage_ref(name, before)
        if found is not None and found < before:
            return Source("stage", stage=found)
        if found is not None or name.lower() in self.names:
            raise self.fail(
                f'cannot copy from stage "{name}": it needs to be defined before the current stage',
                node,
            )
        return Source("image", _normalize_ref(name, node, self))


def _normalize_ref(name: str, node: Any, planner: _Planner) -> str:
    from compose.errors import UserError
    from compose.images import reference

    try:
        return str(reference.parse(name))
    except UserError as err:
        raise planner.fail(f"failed to parse stage name {name!r}: {err}", node) from None


def _from_names(command: ins.Instruction) -> list[str]:
    if isinstance(command, ins.Copy) and command.from_:
        return [command.from_]
    if isinstance(command, ins.Run):
        names = []
        for text in command.mounts:
            for part in text.split(","):
                key, _, value = part.partition("=")
                if key.strip().lower() == "from" and value:
                    names.append(value.strip().strip('"'))
        return names
    return []


def _sources(plan: StagePlan) -> list[Source | None]:
    out: list[Source | None] = [plan.base]
    for step in plan.steps:
        if isinstance(step, CopyStep):
            out.append(step.origin)
        if isinstance(step, RunStep):
            out.extend(m.origin for m in step.mounts)
    return out


class _Counter(Struct):
    total: int
    current: int = 0

    def next(self) -> int:
        self.current += 1
        return self.current


class _Dispatch:
    """Walks one stage's instructions, updating the image state and collecting steps."""

    def __init__(self, planner: _Planner, stage: ins.Stage, state: ImageState, counter: _Counter):
        self.planner = planner
        self.stage = stage
        self.state = state
        self.counter = counter
        self.steps: list[Step] = []
        self.needs: set[int] = set()
        opts = planner.options
        self.no_cache = opts.no_cache or (
            stage.name in opts.no_cache_filter if stage.name else False
        )
        self.onbuild = False
        self.command: ins.Instruction | None = None

    def fail(self, message: str) -> DockerfileError:
        return self.planner.fail(message, self.command)

    def word(self, text: str) -> str:
        return self.planner._word(text, self.state.state_env, self.command)

    def display(self, text: str, raw: bool = False) -> str:
        lexer = Lexer(self.planner.lexer.escape, raw_quotes=raw, skip_unset=raw)
        try:
            shown = lexer.word(text, self.state.state_env)
        except LexError:
            shown = text
        head, _, rest = shown.partition(" ")
        shown = head.upper() + (" " + rest if rest else "")
        return ("ONBUILD " if self.onbuild else "") + shown

    def run(self, command: ins.Instruction, onbuild: bool = False) -> None:
        self.command, self.onbuild = command, onbuild
        handler = getattr(self, "on_" + type(command).__name__.lower(), None)
        if handler is None:
            raise self.fail(f"{command.keyword} is not supported")
        handler(command)

    # -- metadata ---------------------------------------------------------------------------
    def on_env(self, c: ins.Env) -> None:
        pairs = [(self.word(p.key), self.word(p.value)) for p in c.pairs]
        for key, value in pairs:
            self.state.set_env(key, value)
        self.state.meta("ENV " + " ".join(f"{k}={v}" for k, v in pairs))

    def on_label(self, c: ins.Label) -> None:
        pairs = [(self.word(p.key), self.word(p.value)) for p in c.pairs]
        for key, value in pairs:
            self.state.set_label(key, value)
        self.state.meta("LABEL " + " ".join(f"{k}={v}" for k, v in pairs))

    def on_maintainer(self, c: ins.Maintainer) -> None:
        self.state.author = c.name
        self.state.meta(f"MAINTAINER {c.name}")

    def on_arg(self, c: ins.Arg) -> None:
        shown = []
        build_args = self.planner.options.build_args
        for arg in c.args:
            value = arg.default
            if arg.key in build_args:
                value = build_args[arg.key]
            elif value is None and arg.key in self.planner.global_args:
                value = self.planner.global_args[arg.key]
            elif value is not None:
                value = self.word(value)
            if value is not None:
                self.state.set_state_env(arg.key, value)
            self.state.build_args.append((arg.key, value))
            shown.append(arg.key if value is None else f"{arg.key}={value}")
        self.state.meta("ARG " + " ".join(shown))

    def _command(self, c: ins.CommandLine) -> list[str]:
        args = list(c.args)
        return list(self.state.with_shell(tuple(args))) if c.prepend_shell else args

    def on_cmd(self, c: ins.Cmd) -> None:
        args = self._command(c)
        self.state.set_list("Cmd", args)
        self.state.config["ArgsEscaped"] = True
        self.state.cmd_set = True
        self.state.meta("CMD " + gofmt.quoted_list(args))

    def on_entrypoint(self, c: ins.Entrypoint) -> None:
        args = self._command(c)
        self.state.set_list("Entrypoint", args)
        if not self.state.cmd_set:
            self.state.config.pop("Cmd", None)
        self.state.meta("ENTRYPOINT " + gofmt.quoted_list(args))

    def on_healthcheck(self, c: ins.Healthcheck) -> None:
        check: dict[str, Any] = {"Test": list(c.test)}
        for key, value in (
            ("Interval", c.interval),
            ("Timeout", c.timeout),
            ("StartPeriod", c.start_period),
            ("StartInterval", c.start_interval),
            ("Retries", c.retries),
        ):
            if value:
                check[key] = value
        self.state.config["Healthcheck"] = check
        self.state.meta(
            f"HEALTHCHECK {{Test:{gofmt.plain_list(c.test)} Interval:{gofmt.duration(c.interval)} "
            f"Timeout:{gofmt.duration(c.timeout)} StartPeriod:{gofmt.duration(c.start_period)} "
            f"StartInterval:{gofmt.duration(c.start_interval)} Retries:{c.retries}}}"
        )

    def on_expose(self, c: ins.Expose) -> None:
        words: list[str] = []
        for port in c.ports:
            try:
                words += self.planner.lexer.words(port, self.state.state_env)
            except LexError as err:
                raise self.fail(str(err)) from None
        ports = [p for word in words for p in _parse_port(word, self)]
        self.state.add_keys("ExposedPorts", ports)
        self.state.meta("EXPOSE " + gofmt.plain_list(ports))

    def on_user(self, c: ins.User) -> None:
        user = self.word(c.user)
        self.state.config["User"] = user
        self.state.meta(f"USER {user}")

    def on_volume(self, c: ins.Volume) -> None:
        volumes = [self.word(v) for v in c.volumes]
        if any(not v for v in volumes):
            raise self.fail("VOLUME specified can not be an empty string")
        self.state.add_keys("Volumes", volumes)
        self.state.meta("VOLUME " + gofmt.plain_list(volumes))

    def on_stopsignal(self, c: ins.StopSignal) -> None:
        signal = self.word(c.signal)
        _check_signal(signal, self)
        self.state.config["StopSignal"] = signal
        self.state.meta(f"STOPSIGNAL {signal}")

    def on_shell(self, c: ins.Shell) -> None:
        self.state.config["Shell"] = list(c.shell)
        self.state.meta("SHELL " + gofmt.plain_list(c.shell))

    def on_onbuild(self, c: ins.Onbuild) -> None:
        self.state.config.setdefault("OnBuild", []).append(c.expression)

    # -- layer steps ------------------------------------------------------------------------
    def _step_base(self, c: ins.Instruction, display: str) -> dict[str, Any]:
        return {
            "line": c.line,
            "display": display,
            "number": self.counter.next(),
            "no_cache": self.no_cache,
        }

    def on_workdir(self, c: ins.Workdir) -> None:
        path = self.word(c.path)
        wd = (
            path
            if posixpath.isabs(path)
            else posixpath.normpath(posixpath.join("/", self.state.workdir, path))
        )
        self.state.config["WorkingDir"] = wd
        if wd != "/":
            user = self.state.user
            base = self._step_base(c, self.display(c.code))
            self.steps.append(WorkdirStep(**base, path=wd, user=user))
        self.state.commit(f"WORKDIR {wd}", wd != "/", marked=False)

    def on_run(self, c: ins.Run) -> None:
        mounts = self._mounts(c)
        argv, name_suffix = self._run_argv(c)
        if c.security == "insecure" and not self.planner.options.privileged:
            raise self.fail(
                "RUN --security=insecure needs the security.insecure entitlement "
                "(build: privileged: true)"
            )
        env = tuple(f"{k}={v}" for k, v in self.state.state_env.items())
        proxies = _proxy_env(self.planner.options.build_args, self.state.state_env)
        display = self.display(c.code, raw=True) + name_suffix
        self.steps.append(
            RunStep(
                **self._step_base(c, display),
                argv=tuple(argv),
                env=env,
                proxy_env=proxies,
                user=self.state.user,
                workdir=self.state.workdir,
                network=c.network or self.planner.options.network,
                privileged=c.security == "insecure",
                mounts=mounts,
                files=self._pipe_files(c),
            )
        )
        self.state.commit("RUN " + _run_history(argv, self.state), True)

    def _run_argv(self, c: ins.Run) -> tuple[list[str], str]:
        args = list(c.args)
        suffix = ""
        if c.heredocs:
            if len(args) != 1 or not c.prepend_shell:
                raise self.fail(f"parsing produced an invalid run command: {args}")
            from compose.build.parser import parse_heredoc

            first = c.heredocs[0]
            if parse_heredoc(args[0]) is not None:
                data = first.body()
                args = [f"/dev/pipes/{first.name}"] if data.startswith("#!") else [data]
                suffix = f" ({_summary(first.content)})"
            else:
                args = [args[0] + "".join(f"\n{d.content}{d.name}" for d in c.heredocs)]
        if c.prepend_shell:
            args = list(self.state.with_shell(tuple(args)))
        return args, suffix

    def _pipe_files(self, c: ins.Run) -> tuple[InlineFile, ...]:
        from compose.build.parser import parse_heredoc

        if c.heredocs and c.args and parse_heredoc(c.args[0]) is not None:
            first = c.heredocs[0]
            if first.body().startswith("#!"):
                return (InlineFile(first.name, first.body(), 0o755),)
        return ()

    def _mounts(self, c: ins.Run) -> tuple[RunMount, ...]:
        out = []
        for text in c.mounts:
            try:
                mount = parse_mount(text, self.word, self._resolve_from, self.state.workdir)
            except MountError as err:
                raise self.fail(str(err)) from None
            if mount.origin.kind == "stage":
                self.needs.add(mount.origin.stage)
            out.append(mount)
        return tuple(out)

    def _resolve_from(self, name: str) -> Source:
        assert self.command is not None
        return self.planner.source_for(name, self.stage.index, self.command)

    def on_copy(self, c: ins.Copy) -> None:
        origin = CONTEXT
        if c.from_:
            if self.planner.lexer.word(c.from_, {}) != c.from_:
                raise self.fail(
                    "variable expansion is not supported for --from, define a new stage with "
                    "FROM using ARG from global scope as a workaround"
                )
            origin = self._resolve_from(c.from_)
            if origin.kind == "stage":
                self.needs.add(origin.stage)
        chown, chmod = self.word(c.chown), self.word(c.chmod)
        _check_chmod(chmod, self)
        sources = tuple(self.word(s) for s in c.sources)
        dest_raw = self.word(c.dest)
        checksum = self.word(c.checksum) if c.is_add else ""
        _check_checksum(c, sources, checksum, self)
        inline = tuple(
            InlineFile(s.path, self._expand_raw(s.data) if s.expand else s.data) for s in c.inline
        )
        dest = _dest_path(self.state.workdir, dest_raw)
        self.steps.append(
            CopyStep(
                **self._step_base(c, self.display(c.code)),
                sources=sources,
                inline=inline,
                dest=dest,
                origin=origin,
                chown=chown,
                chmod=chmod,
                link=c.link,
                parents=c.parents,
                excludes=c.excludes,
                is_add=c.is_add,
                checksum=checksum,
                unpack=c.unpack,
                keep_git_dir=bool(c.keep_git_dir),
            )
        )
        self.state.commit(_copy_history(c, chown, chmod, sources, dest_raw), True)

    def _expand_raw(self, data: str) -> str:
        try:
            return Lexer("\\", skip_quotes=True).word(data, self.state.state_env)
        except LexError as err:
            raise self.fail(str(err)) from None


def _dest_path(workdir: str, dest: str) -> str:
    """BuildKit's pathRelativeToWorkingDir: absolute as written, else under WORKDIR; a
    trailing ``/`` (or ``/.``) is kept: it says "into a directory"."""
    if posixpath.isabs(dest):
        return dest
    if dest in (".", ""):
        dest = "./"
    joined = posixpath.normpath(posixpath.join(workdir or "/", dest))
    if joined.startswith("//"):
        joined = "/" + joined.lstrip("/")
    if dest.endswith("/") and not joined.endswith("/"):
        joined += "/"
    elif dest.endswith("/."):
        joined = ("" if joined == "/" else joined + "/") + "."
    return joined


def _copy_history(c: ins.Copy, chown: str, chmod: str, sources: tuple[str, ...], dest: str) -> str:
    parts = ["ADD" if c.is_add else "COPY"]
    if c.parents:
        parts.append("--parents")
    if chown:
        parts.append(f"--chown={chown}")
    if chmod:
        parts.append(f"--chmod={chmod}")
    parts += list(sources)
    parts += [f"<<{s.path}" for s in c.inline]
    parts.append(dest)
    return " ".join(parts)


def _run_history(argv: list[str], state: ImageState) -> str:
    shown: dict[str, str] = {}
    for key, value in state.build_args:
        shown[key] = state.state_env.get(key, value or "")
    words = [f"|{len(shown)}", *(f"{k}={v}" for k, v in shown.items())] if shown else []
    return " ".join([*words, *argv])


def _proxy_env(build_args: Mapping[str, str], env: Mapping[str, str]) -> tuple[str, ...]:
    out = []
    for key in sorted(build_args):
        if key.lower() in PROXY_ARGS and key not in env:
            value = build_args[key]
            out += [f"{key.upper()}={value}", f"{key.lower()}={value}"]
    return tuple(dict.fromkeys(out))


def _summary(content: str) -> str:
    lines = content.strip().replace("\r\n", "\n").split("\n")
    return lines[0] + ("..." if len(lines) > 1 else "")


def _check_signal(signal: str, d: _Dispatch) -> None:
    if signal.isdigit():
        if int(signal) == 0:
            raise d.fail(f"invalid signal: {signal}")
        return
    if signal.upper().removeprefix("SIG") not in SIGNALS:
        raise d.fail(f"invalid signal: {signal}")


def _check_chmod(chmod: str, d: _Dispatch) -> None:
    if not chmod:
        return
    try:
        if int(chmod, 8) > 0o7777:
            raise ValueError
        return
    except ValueError:
        if chmod.isdigit() or not _CHMOD_SYMBOLIC.match(chmod):
            raise d.fail(
                f"invalid chmod parameter: '{chmod}'. it should be octal string and between "
                "0 and 07777"
            ) from None


def _check_checksum(c: ins.Copy, sources: tuple[str, ...], checksum: str, d: _Dispatch) -> None:
    for src in sources:
        if src.startswith(("http://", "https://")) and not c.is_add:
            raise d.fail("source can't be a URL for COPY")
        if _is_git(src) and not c.is_add:
            raise d.fail("source can't be a git ref for COPY")
    if not checksum:
        return
    if len(sources) != 1:
        raise d.fail("checksum can't be specified for multiple sources")
    if _is_git(sources[0]):
        if not re.fullmatch(r"[0-9a-fA-F]+", checksum):
            raise d.fail(f"invalid checksum {checksum} for Git URL, expected hex commit hash")
        return
    if not sources[0].startswith(("http://", "https://")):
        raise d.fail("checksum requires HTTP(S) or Git sources")
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", checksum):
        raise d.fail(f"invalid checksum digest format: {checksum}")


def _is_git(src: str) -> bool:
    from compose.build import gitref

    return gitref.is_git(src, context=False)


def _parse_port(raw: str, d: _Dispatch) -> list[str]:
    spec = raw.rsplit(":", 1)[-1]  # [ip:]host:container/proto: only the container part counts
    port, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise d.fail(f'invalid port: "{raw}": invalid proto: {proto}')
    start, _, end = port.partition("-")
    try:
        first = int(start)
        last = int(end) if end else first
    except ValueError:
        raise d.fail(f"invalid containerPort: {port}") from None
    if not (0 <= first <= last <= 65535):
        raise d.fail(f"invalid containerPort: {port}")
    return [f"{n}/{proto}" for n in range(first, last + 1)]


def with_error_location(err: DockerfileError, dockerfile: str) -> str:
    """``Dockerfile:12: COPY --from=x a /b: message`` (one line)."""
    where = f"{dockerfile}:{err.line}" if err.line else dockerfile
    code = err.instruction.split("\n")[0]
    if len(code) > 60:
        code = code[:57] + "..."
    return f"{where}: {code}: {err.message}" if code else f"{where}: {err.message}"


__all__ = ["DockerfileError", "FrontendOptions", "plan_build", "replace"]
