"""What `up` asks of a supervisor beside the plan, and where its progress goes: a light module,
so the CLI builds them without importing the supervisor (anyio, the loop, the runtime)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from msgspec import Struct, field

if TYPE_CHECKING:
    from compose.progress import Step

COMPOSE, TEST = "compose", "test"  # readiness: docker compose's `--wait`, or test mode's


class Output(Protocol):
    """Where a supervisor's progress goes: the CLI's terminal (``up``, ``up -d`` relaying the
    detached one), the detached supervisor's pipe, nothing for a request served in-process:
    ``step`` what it does to each object (``Container p-web-1  Started``), ``progress`` a message
    (``Gracefully Stopping...``), ``log`` a replica's output line."""

    def step(self, step: Step) -> None: ...

    def progress(self, line: str) -> None: ...

    def log(self, line: str) -> None: ...

    def warning(self, text: str) -> None: ...


class Owner(Struct, frozen=True):
    """The process a project belongs to (a test session): when it dies, its supervisor brings
    the project down (``remove_volumes``: ``down -v``), within ``grace`` seconds of stops.
    ``start_time`` (clock ticks, /proc) tells a reused pid from the owner; ``labels`` land in
    the project record (``ls`` shows them, a later run sweeps by them)."""

    pid: int
    start_time: int | None = None
    remove_volumes: bool = True
    grace: float = 1.0
    labels: dict[str, str] = field(default_factory=dict)


class RunOptions(Struct, frozen=True):
    detach: bool = False
    wait: bool = False
    wait_timeout: float | None = None
    abort_on_container_exit: bool = False
    exit_code_from: str | None = None
    stop_timeout: float | None = None
    pull: str = "missing"
    no_log_prefix: bool = False
    timestamps: bool = False
    color: bool = True
    attach: tuple[str, ...] = ()
    no_attach: tuple[str, ...] = ()
    abort_on_container_failure: bool = False
    # test mode (compose.testing): reaped when ``owner`` dies; ``readiness`` TEST makes
    # `--wait` probe TCP ports of services without a healthcheck, take any exit 0 as done
    # and run the first health probes at once instead of after ``interval``
    owner: Owner | None = None
    readiness: str = COMPOSE
    asked: float = 0.0  # when the client asked (time.time()): a `down` asked later ends it
