"""Parsed nodes -> typed instructions and stages (BuildKit ``frontend/dockerfile/instructions``).

Each instruction is a frozen ``msgspec.Struct`` (``compose.build.plan`` says why) holding its
arguments as written (variables are expanded later, per stage, by ``compose.build.stages``).
Flags are checked here like BuildKit's ``BFlags``: unknown flags, duplicates, missing values
and non-boolean values are errors naming the line. ``parse_stages`` splits the file into the
ARGs before the first FROM and the stages.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from msgspec import Struct, field
from msgspec.structs import replace

from compose.build.parser import Dockerfile, Heredoc, Node, ParseError, parse_heredoc

KEYWORDS = (
    "add arg cmd copy entrypoint env expose from healthcheck label maintainer onbuild run "
    "shell stopsignal user volume workdir"
).split()
STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")


class Instruction(Struct, frozen=True):
    keyword: str  # upper case: "RUN"
    code: str  # the instruction as written (joined lines, trimmed)
    line: int
    end_line: int

    @property
    def makes_layer(self) -> bool:
        return False


class KeyValue(Struct, frozen=True):
    key: str
    value: str
    no_delim: bool = False  # the legacy ``ENV k v`` form


class ArgDef(Struct, frozen=True):
    key: str
    default: str | None = None


class Env(Instruction, frozen=True):
    pairs: tuple[KeyValue, ...] = ()


class Label(Instruction, frozen=True):
    pairs: tuple[KeyValue, ...] = ()


class Arg(Instruction, frozen=True):
    args: tuple[ArgDef, ...] = ()


class Maintainer(Instruction, frozen=True):
    name: str = ""


class CommandLine(Instruction, frozen=True):
    """RUN / CMD / ENTRYPOINT: exec form (``prepend_shell`` False) or shell form."""

    args: tuple[str, ...] = ()
    prepend_shell: bool = True
    heredocs: tuple[Heredoc, ...] = ()


class Run(CommandLine, frozen=True):
    mounts: tuple[str, ...] = ()  # raw --mount values (expanded per stage)
    network: str = ""
    security: str = ""

    @property
    def makes_layer(self) -> bool:
        return True


class Cmd(CommandLine, frozen=True):
    pass


class Entrypoint(CommandLine, frozen=True):
    pass


class InlineSource(Struct, frozen=True):
    """A heredoc source of COPY/ADD: becomes a file named ``path`` (mode 0644)."""

    path: str
    data: str
    expand: bool


class Copy(Instruction, frozen=True):
    """COPY and ADD (``is_add``)."""

    sources: tuple[str, ...] = ()
    inline: tuple[InlineSource, ...] = ()
    dest: str = ""
    from_: str = ""
    chown: str = ""
    chmod: str = ""
    link: bool = False
    parents: bool = False
    excludes: tuple[str, ...] = ()
    is_add: bool = False
    checksum: str = ""
    keep_git_dir: bool | None = None
    unpack: bool | None = None

    @property
    def makes_layer(self) -> bool:
        return True


class Workdir(Instruction, frozen=True):
    path: str = ""

    @property
    def makes_layer(self) -> bool:
        return True  # unless it resolves to "/" (decided when the stage is expanded)


class User(Instruction, frozen=True):
    user: str = ""


class Volume(Instruction, frozen=True):
    volumes: tuple[str, ...] = ()


class Expose(Instruction, frozen=True):
    ports: tuple[str, ...] = ()


class Shell(Instruction, frozen=True):
    shell: tuple[str, ...] = ()


class StopSignal(Instruction, frozen=True):
    signal: str = ""


class Healthcheck(Instruction, frozen=True):
    test: tuple[str, ...] = ()  # ("NONE",) | ("CMD", ...) | ("CMD-SHELL", "cmd")
    interval: int = 0  # ns
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


class Onbuild(Instruction, frozen=True):
    expression: str = ""


class Stage(Struct, frozen=True):
    index: int
    base: str  # as written (expanded with the global ARGs when the build is planned)
    name: str  # lower-cased; "" when unnamed
    platform: str
    code: str
    line: int
    commands: tuple[Instruction, ...] = ()

    @property
    def display_name(self) -> str:
        return self.name or f"stage-{self.index}"


# -- flags ----------------------------------------------------------------------------------
class Flags(Struct):
    """BuildKit's BFlags: declare the flags an instruction takes, then ``parse``."""

    args: list[str]
    kinds: dict[str, str] = field(default_factory=dict)  # name -> bool | string | strings
    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, kind: str) -> Flags:
        self.kinds[name] = kind
        return self

    def parse(self) -> None:
        used: set[str] = set()
        for arg in self.args:
            if arg == "--":
                return
            if not arg.startswith("--"):
                raise ValueError(f"arg should start with -- : {arg}")
            flag, has_value, value = arg.partition("=")
            name = flag[2:]
            kind = self.kinds.get(name)
            if kind is None:
                raise ValueError(_suggest(f"unknown flag: {flag}", name, list(self.kinds)))
            if name in used and kind != "strings":
                raise ValueError(f"duplicate flag specified: {flag}")
            used.add(name)
            self._set(name, kind, flag, bool(has_value), value)

    def _set(self, name: str, kind: str, flag: str, has_value: bool, value: str) -> None:
        if kind == "bool":
            if has_value and value == "":
                raise ValueError(f"missing a value on flag: {flag}")
            if value.lower() not in ("true", "false", ""):
                raise ValueError(f"expecting boolean value for flag {flag}, not: {value}")
            self.values[name] = "false" if value.lower() == "false" else "true"
            return
        if not has_value:
            raise ValueError(f"missing a value on flag: {flag}")
        if kind == "strings":
            self.lists.setdefault(name, []).append(value)
        else:
            self.values[name] = value

    def string(self, name: str) -> str:
        return self.values.get(name, "")

    def boolean(self, name: str) -> bool:
        return self.values.get(name) == "true"

    def optional_bool(self, name: str) -> bool | None:
        return None if name not in self.values else self.values[name] == "true"

    def strings(self, name: str) -> tuple[str, ...]:
        return tuple(self.lists.get(name, ()))


def _suggest(message: str, word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word.lower(), [o.lower() for o in options], n=1)
    return f"{message} (did you mean {close[0]}?)" if close else message


# -- durations ------------------------------------------------------------------------------
_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 10**6, "s": 10**9}
_UNITS |= {"m": 60 * 10**9, "h": 3600 * 10**9}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """Go's ``time.ParseDuration`` in nanoseconds."""
    orig = text
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if text == "0":
        return 0
    total = 0.0
    pos = 0
    while pos < len(text):
        found = _DURATION_PART.match(text, pos)
        if not found:
            raise ValueError(f'time: invalid duration "{orig}"')
        total += float(found.group(1)) * _UNITS[found.group(2)]
        pos = found.end()
    if not text:
        raise ValueError(f'time: invalid duration "{orig}"')
    return sign * round(total)


def _interval(flags: Flags, name: str) -> int:
    value = flags.string(name)
    if not value:
        return 0
    ns = parse_duration(value)
    if ns != 0 and ns < 10**6:
        raise ValueError(f'Interval "{name}" cannot be less than 1ms')
    return ns


# -- instruction parsers ------------------------------------------------------------------
def _base(node: Node) -> tuple[str, str, int, int]:
    return node.value.upper(), node.original.strip(), node.start_line, node.end_line


def _no_flags(node: Node) -> None:
    Flags(node.flags).parse()


def _kvps(node: Node, name: str) -> tuple[KeyValue, ...]:
    args = node.flat_args()
    if not args:
        raise ValueError(f"{name} requires at least one argument")
    out = []
    for i in range(0, len(args), 3):
        key, value, delim = args[i : i + 3]
        if not key:
            raise ValueError(f"{name} names can not be blank")
        out.append(KeyValue(key, value, delim == ""))
    return tuple(out)


def _env(node: Node) -> Instruction:
    _no_flags(node)
    return Env(*_base(node), pairs=_kvps(node, "ENV"))


def _label(node: Node) -> Instruction:
    _no_flags(node)
    return Label(*_base(node), pairs=_kvps(node, "LABEL"))


def _maintainer(node: Node) -> Instruction:
    args = node.flat_args()
    if len(args) != 1:
        raise ValueError("MAINTAINER requires exactly one argument")
    _no_flags(node)
    return Maintainer(*_base(node), name=args[0])


def _arg(node: Node) -> Instruction:
    args = node.flat_args()
    if not args:
        raise ValueError("ARG requires at least one argument")
    defs = []
    for arg in args:
        if "=" in arg:
            key, _, value = arg.partition("=")
            if not key:
                raise ValueError("ARG names can not be blank")
            defs.append(ArgDef(key, value))
        else:
            defs.append(ArgDef(arg))
    return Arg(*_base(node), args=tuple(defs))


def _command_line(node: Node, empty_as_none: bool = False) -> dict[str, object]:
    args = node.flat_args()
    if not node.json:
        args = [" ".join(args)] if args else []
    return {"args": tuple(args), "prepend_shell": not node.json, "heredocs": tuple(node.heredocs)}


def _run(node: Node) -> Instruction:
    flags = Flags(node.flags).add("mount", "strings").add("network", "string")
    flags.add("security", "string").add("device", "strings")
    flags.parse()
    if flags.strings("device"):
        raise ValueError("RUN --device is a labs feature that pycompose does not support")
    network = flags.string("network")
    if network and network not in ("default", "none", "host"):
        raise ValueError(f"unsupported network mode {network!r}: default, none or host")
    security = flags.string("security")
    if security and security not in ("sandbox", "insecure"):
        raise ValueError(f"unsupported security mode {security!r}: sandbox or insecure")
    return Run(
        *_base(node),
        **_command_line(node),  # type: ignore[arg-type]
        mounts=flags.strings("mount"),
        network=network,
        security=security,
    )


def _cmd(node: Node) -> Instruction:
    _no_flags(node)
    return Cmd(*_base(node), **_command_line(node))  # type: ignore[arg-type]


def _entrypoint(node: Node) -> Instruction:
    _no_flags(node)
    return Entrypoint(*_base(node), **_command_line(node))  # type: ignore[arg-type]


def _sources_and_dest(node: Node, name: str) -> dict[str, object]:
    args = node.flat_args()
    if len(args) < 2:
        raise ValueError(
            f"{name} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )
    *sources, dest = args
    if parse_heredoc(dest) is not None:
        raise ValueError(f"{name} cannot accept a heredoc as a destination")
    bodies = {doc.name: doc for doc in node.heredocs}
    paths: list[str] = []
    inline: list[InlineSource] = []
    for src in sources:
        doc = parse_heredoc(src)
        if doc is None:
            paths.append(src)
            continue
        found = bodies.get(doc.name)
        content = found.content if found else ""
        body = Heredoc(doc.name, chomp=doc.chomp, content=content).body()
        inline.append(InlineSource(doc.name, body, doc.expand))
    return {"sources": tuple(paths), "inline": tuple(inline), "dest": dest}


def _copy(node: Node) -> Instruction:
    flags = Flags(node.flags).add("chown", "string").add("from", "string")
    flags.add("chmod", "string").add("link", "bool").add("exclude", "strings")
    flags.add("parents", "bool")
    flags.parse()
    return Copy(
        *_base(node),
        **_sources_and_dest(node, "COPY"),  # type: ignore[arg-type]
        from_=flags.string("from"),
        chown=flags.string("chown"),
        chmod=flags.string("chmod"),
        link=flags.boolean("link"),
        parents=flags.boolean("parents"),
        excludes=flags.strings("exclude"),
    )


def _add(node: Node) -> Instruction:
    flags = Flags(node.flags).add("chown", "string").add("chmod", "string")
    flags.add("link", "bool").add("keep-git-dir", "bool").add("checksum", "string")
    flags.add("unpack", "bool").add("exclude", "strings")
    flags.parse()
    return Copy(
        *_base(node),
        **_sources_and_dest(node, "ADD"),  # type: ignore[arg-type]
        chown=flags.string("chown"),
        chmod=flags.string("chmod"),
        link=flags.boolean("link"),
        excludes=flags.strings("exclude"),
        is_add=True,
        checksum=flags.string("checksum"),
        keep_git_dir=flags.optional_bool("keep-git-dir"),
        unpack=flags.optional_bool("unpack"),
    )


def _one_arg(node: Node, name: str) -> str:
    args = node.flat_args()
    if len(args) != 1:
        raise ValueError(f"{name} requires exactly one argument")
    return args[0]


def _workdir(node: Node) -> Instruction:
    path = _one_arg(node, "WORKDIR")
    _no_flags(node)
    return Workdir(*_base(node), path=path)


def _user(node: Node) -> Instruction:
    user = _one_arg(node, "USER")
    _no_flags(node)
    return User(*_base(node), user=user)


def _volume(node: Node) -> Instruction:
    args = node.flat_args()
    if not args:
        raise ValueError("VOLUME requires at least one argument")
    _no_flags(node)
    volumes = tuple(v.strip() for v in args)
    if any(not v for v in volumes):
        raise ValueError("VOLUME specified can not be an empty string")
    return Volume(*_base(node), volumes=volumes)


def _expose(node: Node) -> Instruction:
    args = node.flat_args()
    if not args:
        raise ValueError("EXPOSE requires at least one argument")
    _no_flags(node)
    return Expose(*_base(node), ports=tuple(sorted(args)))


def _shell(node: Node) -> Instruction:
    _no_flags(node)
    args = node.flat_args()
    if not args:
        raise ValueError("SHELL requires at least one argument")
    if not node.json:
        raise ValueError(f"SHELL requires the arguments to be in JSON form: {node.original}")
    return Shell(*_base(node), shell=tuple(args))


def _stopsignal(node: Node) -> Instruction:
    return StopSignal(*_base(node), signal=_one_arg(node, "STOPSIGNAL"))


def _healthcheck(node: Node) -> Instruction:
    args = node.flat_args()
    if not args:
        raise ValueError("HEALTHCHECK requires at least one argument")
    kind, rest = args[0].upper(), args[1:]
    if kind == "NONE":
        if rest:
            raise ValueError("HEALTHCHECK NONE takes no arguments")
        return Healthcheck(*_base(node), test=("NONE",))
    flags = Flags(node.flags)
    for name in ("interval", "timeout", "start-period", "start-interval", "retries"):
        flags.add(name, "string")
    flags.parse()
    if kind != "CMD":
        raise ValueError(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    command = rest if node.json else ([" ".join(rest)] if rest else [])
    if not command:
        raise ValueError("Missing command after HEALTHCHECK CMD")
    retries = 0
    if flags.string("retries"):
        retries = int(flags.string("retries"))
        if retries < 0:
            raise ValueError(f"--retries cannot be negative ({retries})")
    return Healthcheck(
        *_base(node),
        test=("CMD" if node.json else "CMD-SHELL", *command),
        interval=_interval(flags, "interval"),
        timeout=_interval(flags, "timeout"),
        start_period=_interval(flags, "start-period"),
        start_interval=_interval(flags, "start-interval"),
        retries=retries,
    )


_ONBUILD_PREFIX = re.compile(r"(?i)^\s*ONBUILD\s*")


def _onbuild(node: Node) -> Instruction:
    args = node.flat_args()
    if not args:
        raise ValueError("ONBUILD requires at least one argument")
    _no_flags(node)
    trigger = args[0].strip().upper()
    if trigger == "ONBUILD":
        raise ValueError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger in ("MAINTAINER", "FROM"):
        raise ValueError(f"{trigger} isn't allowed as an ONBUILD trigger")
    expression = _ONBUILD_PREFIX.sub("", node.original, count=1)
    for doc in node.heredocs:
        expression += "\n" + doc.content + doc.name
    return Onbuild(*_base(node), expression=expression)


PARSERS: dict[str, Callable[[Node], Instruction]] = {
    "env": _env,
    "label": _label,
    "maintainer": _maintainer,
    "arg": _arg,
    "run": _run,
    "cmd": _cmd,
    "entrypoint": _entrypoint,
    "copy": _copy,
    "add": _add,
    "workdir": _workdir,
    "user": _user,
    "volume": _volume,
    "expose": _expose,
    "shell": _shell,
    "stopsignal": _stopsignal,
    "healthcheck": _healthcheck,
    "onbuild": _onbuild,
}


def _from(node: Node, index: int) -> Stage:
    args = node.flat_args()
    name = ""
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not STAGE_NAME.match(name):
            raise ValueError(
                f'invalid name for build stage: "{args[2]}", '
                "name can't start with a number or contain symbols"
            )
    elif len(args) != 1:
        raise ValueError("FROM requires either one or three arguments")
    flags = Flags(node.flags).add("platform", "string")
    flags.parse()
    return Stage(
        index, args[0], name, flags.string("platform"), node.original.strip(), node.start_line
    )


def parse_instruction(node: Node) -> Instruction:
    parser = PARSERS.get(node.keyword)
    if parser is None:
        raise ValueError(_suggest(f"unknown instruction: {node.value}", node.value, [*KEYWORDS]))
    return parser(node)


def parse_stages(dockerfile: Dockerfile) -> tuple[list[Stage], list[Arg]]:
    """(stages, the ARGs before the first FROM); ParseError naming the line on a problem."""
    stages: list[Stage] = []
    meta: list[Arg] = []
    commands: list[Instruction] = []
    for node in dockerfile.nodes:
        try:
            if node.keyword == "from":
                if stages:
                    stages[-1] = _with_commands(stages[-1], commands)
                stages.append(_from(node, len(stages)))
                commands = []
                continue
            instruction = parse_instruction(node)
        except ValueError as err:
            raise ParseError(str(err), node.start_line, node.end_line) from None
        if not stages:
            if isinstance(instruction, Arg):
                meta.append(instruction)
                continue
            raise ParseError(
                "no build stage in current context (only ARG may come before the first FROM)",
                node.start_line,
                node.end_line,
            )
        commands.append(instruction)
    if not stages:
        raise ParseError("dockerfile contains no stages to build", 1)
    stages[-1] = _with_commands(stages[-1], commands)
    return stages, meta


def _with_commands(stage: Stage, commands: list[Instruction]) -> Stage:
    return replace(stage, commands=tuple(commands))
