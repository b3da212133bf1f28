"""The pytest plugin (entry point ``pytest11: pycompose``): stack fixtures for a conftest, the
services' log lines in a failed test's report, ``--pycompose-keep``.

    # conftest.py
    from compose.testing import stack_fixture
    env = stack_fixture("compose.yaml", scope="session")      # several per suite are fine

    def test_cache(env):
        host, port = env.address("redis", 6379)

- Each fixture brings its stack up once per scope (per xdist worker: every worker has its own,
  named from its identity) and waits until it is ready, within a bounded deadline
  (``--pycompose-timeout``, 60 s); a stack that does not come up is torn down and the error
  names the service, its state, the last probe output and its last log lines.
- A failed test's report gets a ``Captured stdout pycompose <project>`` section: each service's
  lines from that test's time window (``--pycompose-log-lines`` per replica). pytest shows it in
  the terminal; JUnit carries it in ``<system-out>`` (with ``junit_logging = system-out``, the
  ini switch for every captured output).
- ``--pycompose-keep``: the stacks of failed tests stay up after the run (their reaper lets go),
  with how to reach them in the summary.
- Nothing is left behind when pytest is killed: each stack's supervisor watches its owner.

Light: pytest loads this in every session of an environment that has pycompose; it imports
nothing heavy until a stack fixture runs, and its hooks do nothing without stacks.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from compose.testing.stack import Files, Stack

LOG_LINES = 50
_STATE = pytest.StashKey["_Session"]()
_STARTED = pytest.StashKey[float]()


class PycomposeWarning(UserWarning):
    """A kept stack, a failed sweep: things the run's summary should show."""


@dataclass
class _Session:
    config: pytest.Config
    active: dict[str, Stack] = field(default_factory=dict)
    failed: dict[str, list[str]] = field(default_factory=dict)  # project -> failed test ids
    kept: list[str] = field(default_factory=list)  # how to reach each kept stack

    @property
    def keep(self) -> bool:
        return bool(self.config.getoption("pycompose_keep"))

    def log_lines(self) -> int:
        return int(self.config.getoption("pycompose_log_lines"))

    def timeout(self) -> float | None:
        value = self.config.getoption("pycompose_timeout")
        return float(value) if value is not None else None

    def finish(self, stack: Stack) -> None:
        """A fixture's end: down -v, or kept when one of its tests failed and we keep."""
        failed = self.failed.pop(stack.project, [])
        if failed and self.keep:
            stack.keep(f"pytest --pycompose-keep: {failed[0]}")
            text = reach(stack, failed)
            self.kept.append(text)
            if os.environ.get("PYTEST_XDIST_WORKER"):  # a worker's summary is not shown
                warnings.warn(PycomposeWarning(text), stacklevel=1)
            return
        stack.down()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pycompose", "pycompose test stacks")
    group.addoption(
        "--pycompose-keep",
        action="store_true",
        dest="pycompose_keep",
        help="leave the stacks of failed tests up, and print how to reach them",
    )
    group.addoption(
        "--pycompose-log-lines",
        type=int,
        default=LOG_LINES,
        dest="pycompose_log_lines",
        help=f"log lines per replica in a failed test's report (default {LOG_LINES})",
    )
    group.addoption(
        "--pycompose-timeout",
        type=float,
        default=None,
        dest="pycompose_timeout",
        help="seconds a stack may take to be ready (default 60)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STATE] = _Session(config)


def _session(config: pytest.Config) -> _Session:
    if _STATE not in config.stash:
        config.stash[_STATE] = _Session(config)
    return config.stash[_STATE]


def stack_fixture(
    files: Files,
    scope: str | Callable[..., Any] = "session",
    *,
    name: str | None = None,
    autouse: bool = False,
    **options: Any,
) -> Any:
    """A fixture that brings ``files`` up as a ``Stack`` for its ``scope`` (a pytest scope, or
    a callable for a dynamic one) and yields it; ``options``: ``Stack``'s (``project``,
    ``env``, ``profiles``, ``env_file``, ``timeout``...). Relative files are found next to the
    module that calls this (the conftest)."""
    caller = sys._getframe(1).f_globals.get("__file__")
    options.setdefault("cwd", Path(caller).parent if caller else Path.cwd())

    @pytest.fixture(scope=scope, name=name, autouse=autouse)  # type: ignore[arg-type]
    def _stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
        from compose.testing.stack import Stack

        session = _session(request.config)
        if session.timeout() is not None:
            options.setdefault("timeout", session.timeout())
        stack = Stack(files, **options)
        stack.up()  # a failure was torn down already; its error explains
        session.active[stack.project] = stack
        try:
            yield stack
        finally:
            session.active.pop(stack.project, None)
            session.finish(stack)

    return _stack


# reports ------------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_STARTED] = time.time()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome: Any = yield
    session = _session(item.config)
    if not session.active:
        return
    report = outcome.get_result()
    if not report.failed:
        return
    since = item.stash.get(_STARTED, None)
    for stack in stacks_of(item, session):
        session.failed.setdefault(stack.project, []).append(item.nodeid)
        text = window(stack, since, session)
        report.sections.append((f"Captured stdout pycompose {stack.project}", text))
        # and in the item's sections: the test's later (teardown) report, which JUnit writes
        # as <system-out>, carries them too
        item.add_report_section(report.when, f"stdout pycompose {stack.project}", text)


def stacks_of(item: pytest.Item, session: _Session) -> list[Stack]:
    """The active stacks the test used (through any of its fixtures)."""
    values = getattr(item, "funcargs", {}).values()
    active = set(map(id, session.active.values()))
    return [v for v in values if id(v) in active]


def window(stack: Stack, since: float | None, session: _Session) -> str:
    """Each service's log lines since the test started (the last N of each replica)."""
    try:
        text = stack.logs(since=since, tail=session.log_lines())
    except Exception as exc:  # a report must never fail on its logs
        return f"(the logs could not be read: {exc})\n"
    return text or "(no log lines in this test's time window)\n"


def reach(stack: Stack, failed: Sequence[str]) -> str:
    """How to reach a kept stack: each replica's address, and the commands."""
    lines = [f"pycompose kept stack {stack.project} (failed: {', '.join(failed)})"]
    try:
        for rep in stack.client.replicas():
            ips = ", ".join(rep.record.ips.values()) or "host network"
            lines.append(f"  {rep.name}: {rep.status} at {ips}")
    except Exception as exc:
        lines.append(f"  (its containers could not be listed: {exc})")
    p = f"pycompose -p {stack.project}"
    lines.append(f"  {p} ps | {p} logs SERVICE | {p} exec SERVICE sh | {p} down -v")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    session = _session(config)
    if session.kept and not os.environ.get("PYTEST_XDIST_WORKER"):
        terminalreporter.section("pycompose: kept stacks")
        for text in session.kept:
            terminalreporter.write_line(text)
