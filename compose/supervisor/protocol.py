"""What can be asked of a project's supervisor: one frozen request type per op, each naming its
reply type, and their JSON form (the unix-socket API carries one JSON request line, then the
steps of its progress as ``{"step": ...}`` lines, then one reply line).

    request                         reply
    Status()                        StatusReply(pid, ready, replicas)
    Apply(load, up, pull, wait…)    PlanReply(actions, warnings, failures)      `up -d`, `create`
    Down(options, timeout)          DownReply(pid, actions, warnings, failures)
    Stop / Start / Restart / Kill   Changed(verb, names)                         replicas acted on
    Pause / Unpause / Remove        Changed(verb, names)
    Scale(counts, no_deps, timeout) Scaled(created, removed, failures)
    Ready(services, timeout)        PlanReply(failures)                          wait until ready
    Own(owner, kept)                Changed("Owned" | "Kept")                    the reaper's owner
    Snapshot(name, services)        Snapshotted(name, volumes, replicas, ...)    volumes copied
    Restore(name, services)         Snapshotted(...)                             volumes put back
    Exec(service, index, argv, ...) ExecReply(exit_code, output)                 output captured
    Attach(up, run, since)          Exited(code)               a foreground `up` on a kept project

Both transports of ``compose.project`` carry these: to a running supervisor over the socket,
or to a ``SupervisorService`` made for one request in the calling process.

``encode``/``decode`` are the one JSON codec of the options that cross processes (tuples go
as lists and come back as tuples, paths as strings). Light: stdlib only, so the CLI builds and
reads them without importing the supervisor.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from msgspec import Struct, field

from compose.planner.desired import DownOptions, UpOptions
from compose.progress import Step
from compose.stackfile.types import LoadOptions
from compose.supervisor.options import Owner, RunOptions

T = TypeVar("T")
Json = dict[str, Any]


# replies ----------------------------------------------------------------------------------------
class ReplicaStatus(Struct, frozen=True):
    name: str
    service: str
    index: int
    status: str
    health: str | None = None
    exit_code: int | None = None


class StatusReply(Struct, frozen=True):
    pid: int
    ready: bool  # `up`'s own plan has run (other requests wait until then)
    replicas: tuple[ReplicaStatus, ...] = ()


class PlanReply(Struct, frozen=True):
    """What a converge did: the plan's lines (``--dry-run``'s text), warnings and failures
    (its steps were streamed to the caller as they happened)."""

    actions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures


class DownReply(PlanReply, frozen=True):
    pid: int = 0  # the process that did it: a supervisor then exits (wait for it)


class Changed(Struct, frozen=True):
    """The replicas a verb acted on, and its past tense (``Container web-1  Stopped``)."""

    verb: str
    names: tuple[str, ...] = ()
    doing: str = ""  # the working status when it is not the verb's own (``Restarting``)


class Exited(Struct, frozen=True):
    """How an attached foreground `up` ended: the exit code it returns."""

    code: int = 0


class Scaled(Struct, frozen=True):
    created: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class Snapshotted(Struct, frozen=True):
    """A snapshot taken or restored: of which volumes, the replicas paused (snapshot) or
    restarted (restore), how long it took and how much it copied."""

    name: str
    volumes: tuple[str, ...] = ()
    replicas: tuple[str, ...] = ()
    seconds: float = 0.0
    copied_bytes: int = 0
    copied_files: int = 0
    failures: tuple[str, ...] = ()  # a restored service that did not get ready
    phases: dict[str, float] = field(default_factory=dict)  # restore: seconds per step


class ExecReply(Struct, frozen=True):
    exit_code: int
    output: str = ""  # base64 of stdout+stderr (bytes, whatever the command wrote)


Reply = StatusReply | PlanReply | DownReply | Changed | Scaled | Snapshotted | ExecReply | Exited


# requests ---------------------------------------------------------------------------------------
class Request(Struct, frozen=True):
    op: ClassVar[str]
    reply: ClassVar[type[Reply]]
    needs_stack: ClassVar[bool] = False  # served without a supervisor, it loads the file

    def to_json(self) -> Json:
        return {"op": self.op, **encode(self)}

    def deadline(self) -> float | None:
        """How long a client waits for the reply (a converge may pull images; None: as long
        as it runs)."""
        return 120.0


class Status(Request, frozen=True):
    op: ClassVar[str] = "status"
    reply: ClassVar[type[Reply]] = StatusReply


class Apply(Request, frozen=True):
    """Converge to the file ``load`` names (``up -d`` while a supervisor runs)."""

    op: ClassVar[str] = "apply"
    reply: ClassVar[type[Reply]] = PlanReply
    load: LoadOptions = field(default_factory=LoadOptions)
    up: UpOptions = field(default_factory=UpOptions)
    pull: str = "missing"
    wait: bool = False
    wait_timeout: float | None = None

    def deadline(self) -> float:
        return 600.0


class Down(Request, frozen=True):
    op: ClassVar[str] = "down"
    reply: ClassVar[type[Reply]] = DownReply
    needs_stack: ClassVar[bool] = True
    options: DownOptions = field(default_factory=DownOptions)
    timeout: float | None = None

    def deadline(self) -> float:
        return 600.0


class ReplicaVerb(Request, frozen=True):
    """A verb on the replicas of ``services`` (all when empty)."""

    reply: ClassVar[type[Reply]] = Changed
    services: tuple[str, ...] = ()


class Stop(ReplicaVerb, frozen=True):
    op: ClassVar[str] = "stop"
    needs_stack: ClassVar[bool] = True  # dependents stop first: the file's order
    timeout: float | None = None


class Start(ReplicaVerb, frozen=True):
    op: ClassVar[str] = "start"


class Restart(ReplicaVerb, frozen=True):
    op: ClassVar[str] = "restart"
    timeout: float | None = None


class Kill(ReplicaVerb, frozen=True):
    op: ClassVar[str] = "kill"
    signal: int = 9


class Pause(ReplicaVerb, frozen=True):
    op: ClassVar[str] = "pause"


class Unpause(ReplicaVerb, frozen=True):
    op: ClassVar[str] = "unpause"


class Remove(ReplicaVerb, frozen=True):
    """``rm``: the stopped replicas (``volumes``: and their anonymous volumes)."""

    op: ClassVar[str] = "rm"
    volumes: bool = False


class Scale(Request, frozen=True):
    op: ClassVar[str] = "scale"
    reply: ClassVar[type[Reply]] = Scaled
    needs_stack: ClassVar[bool] = True
    counts: dict[str, int] = field(default_factory=dict)
    no_deps: bool = False
    timeout: float | None = None

    def deadline(self) -> float:
        return (self.timeout or 120.0) + 10.0


class Ready(Request, frozen=True):
    """Until ``services`` (all when empty) are ready, as the supervisor's `--wait` decides
    (test mode's readiness when it was launched with it); the reply's failures say why not."""

    op: ClassVar[str] = "ready"
    reply: ClassVar[type[Reply]] = PlanReply
    services: tuple[str, ...] = ()
    timeout: float | None = None

    def deadline(self) -> float:
        return (self.timeout or 600.0) + 10.0


class Own(Request, frozen=True):
    """The project belongs to ``owner`` from now on (None: to nobody, ``kept`` says why)."""

    op: ClassVar[str] = "own"
    reply: ClassVar[type[Reply]] = Changed
    owner: Owner | None = None
    kept: str = ""


class Snapshot(Request, frozen=True):
    """Copy the volumes the replicas of ``services`` (all when empty) mount, as snapshot
    ``name``; the replicas are frozen meanwhile (a crash-consistent copy)."""

    op: ClassVar[str] = "snapshot"
    reply: ClassVar[type[Reply]] = Snapshotted
    name: str = "default"
    services: tuple[str, ...] = ()


class Restore(Request, frozen=True):
    """Put snapshot ``name`` back into the volumes ``services`` (all when empty) mount: every
    replica mounting one is killed, the volume made equal to the snapshot, the replicas
    started again and waited for (``timeout``)."""

    op: ClassVar[str] = "restore"
    reply: ClassVar[type[Reply]] = Snapshotted
    name: str = "default"
    services: tuple[str, ...] = ()
    timeout: float | None = None

    def deadline(self) -> float:
        return (self.timeout or 600.0) + 10.0


class Exec(Request, frozen=True):
    """A command in a running replica, run by the supervisor (its runtime is warm: no zygote
    to start per call), the output captured; ``stdin``: base64."""

    op: ClassVar[str] = "exec"
    reply: ClassVar[type[Reply]] = ExecReply
    service: str = ""
    index: int = 1
    argv: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    user: str | None = None
    workdir: str | None = None
    stdin: str | None = None
    timeout: float | None = None

    def deadline(self) -> float:
        return (self.timeout or 600.0) + 10.0


class Attach(Request, frozen=True):
    """A foreground `up` against a running supervisor: follow the project (its replicas' logs
    on the client's output, their exits, ``--abort-on-container-exit`` …) until it ends or
    the client goes; the reply is the exit code `up` returns."""

    op: ClassVar[str] = "attach"
    reply: ClassVar[type[Reply]] = Exited
    up: UpOptions = field(default_factory=UpOptions)
    run: RunOptions = field(default_factory=RunOptions)
    since: float = 0.0  # the client's start: earlier output is not shown

    def deadline(self) -> float | None:
        return None


class Launch(Struct, frozen=True):
    """What a client hands the detached supervisor it starts (``python -m compose.supervisor``
    reads it on stdin): the file to load, ``up``'s options and how to run."""

    load: LoadOptions
    up: UpOptions
    run: RunOptions


# a request's output while it runs -------------------------------------------------------------
class LineOutput:
    """An output that writes each call as a JSON line: ``{"step": {...}}``, ``{"log": "..."}``,
    ``{"progress": "..."}``, ``{"warning": "..."}`` (the socket's lines before a reply, the
    detached supervisor's pipe); ``replay`` plays them into another output."""

    def __init__(self, write: Callable[[Json], None], gone: Any = None) -> None:
        self.write = write
        self.gone = gone  # the socket's: set when the client has gone (an attached `up`)

    def step(self, step: Step) -> None:
        self.write({"step": encode(step)})

    def progress(self, line: str) -> None:
        self.write({"progress": line})

    def log(self, line: str) -> None:
        self.write({"log": line})

    def warning(self, text: str) -> None:
        self.write({"warning": text})


def replay(doc: Mapping[str, Any], out: Any) -> bool:
    """A ``LineOutput`` line into ``out`` (an Output); False when it is no such line."""
    if "step" in doc:
        out.step(decode(Step, doc["step"]))
    elif "log" in doc:
        out.log(doc["log"])
    elif "progress" in doc:
        out.progress(doc["progress"])
    elif "warning" in doc:
        out.warning(doc["warning"])
    else:
        return False
    return True


REQUESTS: dict[str, type[Request]] = {
    cls.op: cls
    for cls in (
        *(Status, Apply, Down, Stop, Start, Restart, Kill, Pause, Unpause, Remove, Scale),
        Attach,
        *(Ready, Own, Snapshot, Restore, Exec),
    )
}


def request_from_json(doc: Mapping[str, Any]) -> Request:
    from compose.errors import OperationError

    cls = REQUESTS.get(str(doc.get("op")))
    if cls is None:
        raise OperationError(f"unknown request {doc.get('op')!r}")
    return decode(cls, {k: v for k, v in doc.items() if k != "op"})


# the codec ---------------------------------------------------------------------------------------
def encode(value: Any) -> Any:
    """A JSON value: records (structs, dataclasses) as objects of their fields, tuples as
    lists, paths as text."""
    names = None if isinstance(value, type) else _field_names(type(value))
    if names is not None:
        return {name: encode(getattr(value, name)) for name in names}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def decode(cls: type[T], doc: Mapping[str, Any]) -> T:
    """The inverse of ``encode`` for the record type ``cls`` (unknown keys are ignored)."""
    hints = _hints(cls)
    names = _field_names(cls) or ()
    fields = {k: _value(hints[k], v) for k, v in doc.items() if k in names}
    return cls(**fields)


_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """The fields of a record type: a ``msgspec.Struct``'s, or a dataclass's (the options
    types); None for any other type."""
    if cls not in _NAMES:
        names: tuple[str, ...] | None = getattr(cls, "__struct_fields__", None)
        if names is None and dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
        _NAMES[cls] = names
    return _NAMES[cls]


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    for option in typing.get_args(hint) if _is_union(hint) else (hint,):
        origin = typing.get_origin(option) or option
        if isinstance(origin, type) and isinstance(value, Mapping) and _field_names(origin):
            return decode(origin, value)
        if origin is tuple and isinstance(value, list):
            item = typing.get_args(option)[0]
            return tuple(_value(item, v) for v in value)
        if origin is Path and isinstance(value, str):
            return Path(value)
        if origin in (dict, Mapping) and isinstance(value, Mapping):
            return dict(value)
    return value


def _is_union(hint: Any) -> bool:
    import types

    return typing.get_origin(hint) in (typing.Union, types.UnionType)
