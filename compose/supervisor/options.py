"""What `up` asks of a supervisor beside the plan, and where its progress goes: a light module,
so the CLI builds them without importing the supervisor (anyio, the loop, the runtime)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Output(Protocol):
    """Where a supervisor's progress goes: the CLI's terminal (``up``, ``up -d`` relaying the
    detached one), the detached supervisor's pipe, nothing for a request served in-process."""

    def progress(self, line: str) -> None: ...

    def log(self, line: str) -> None: ...

    def warning(self, text: str) -> None: ...


@dataclass(frozen=True)
class RunOptions:
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
