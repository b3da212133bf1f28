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
- Session-scoped stacks start going up when their conftest is imported, in the background,
  while pytest collects; the fixture then waits for that start. When a first conftest calls
  ``stack_fixture``, a supervisor is started even before it loads (at this plugin's import when
  the command line alone shows it) and imports itself meanwhile. A stack that no selected
  test uses goes down again after collection. ``--pycompose-no-prestart`` (or
  ``prestart=False``) starts them when the fixture runs instead; nothing starts early for
  ``--collect-only``, ``--fixtures``, ``--help``, nor in an xdist controller (each worker
  starts its own).

Light: pytest loads this in every session of an environment that has pycompose; it imports
nothing heavy until a stack fixture runs, and its hooks do nothing without stacks.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from compose.testing.stack import Files, Stack

LOG_LINES = 50
_STATE = pytest.StashKey["_Session"]()
_STARTED = pytest.StashKey[float]()
# no stack starts early for these (pytest's option dests): they run no test
_NO_TESTS = (
    "collectonly",
    "help",
    "version",
    "showfixtures",
    "show_fixtures_per_test",
    "setupplan",
)


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
        "--pycompose-no-prestart",
        action="store_true",
        dest="pycompose_no_prestart",
        help="start session stacks when their fixture runs, not while pytest collects",
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
    _EARLY[:] = [config]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stacks started early that no fixture took (collection failed, Ctrl-C) go down."""
    _EARLY.clear()
    if "compose.project.detached" in sys.modules:
        from compose.project.detached import release_spare

        release_spare()
    for early in _PRESTARTS[:]:
        early.release()
    for early in _PRESTARTS[:]:
        early.join()


# early starts ------------------------------------------------------------------------------------
_EARLY: list[pytest.Config] = []  # the running session's config, from before its conftests load
_PRESTARTS: list[_Prestart] = []  # stacks going up (or up) that no fixture took yet


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Before the conftests load: when one of them makes stack fixtures, a supervisor starts
    now (unless the command line had it started at this plugin's import) and imports what it
    needs while pytest goes on; the first stack's start takes it. A guess from the command
    line that the parsed options do not confirm lets its spare go."""
    _EARLY[:] = [early_config]
    if _may_prestart(early_config) and _mentions_stacks(early_config):
        from compose.project.detached import prespawn

        prespawn()
    elif "compose.project.detached" in sys.modules:  # else no guess started a spare
        from compose.project.detached import release_spare

        release_spare(wait=False)


def _mentions_stacks(config: pytest.Config) -> bool:
    """One of the conftests pytest loads first (those of the arguments' directories, their
    ``test*`` subdirectories and parents up to the rootdir) calls ``stack_fixture``."""
    here = config.invocation_params.dir
    args = [str(a) for a in config.known_args_namespace.file_or_dir or ()]
    return _conftests_make_stacks(here, args, config.rootpath)


def _conftests_make_stacks(here: Path, args: Sequence[str], root: Path | None) -> bool:
    """``root`` None: not known yet, the first parent with an ini file is taken for it."""
    paths = [a.partition("::")[0] for a in args]
    anchors = [here / a for a in paths if a and not a.startswith("-")] or [here]
    anchors += [d for a in anchors if a.is_dir() for d in a.glob("test*") if d.is_dir()]
    seen: set[Path] = set()
    for anchor in anchors:
        start = anchor if anchor.is_dir() else anchor.parent
        for folder in (start, *start.parents):
            if folder not in seen:
                seen.add(folder)
                if _calls_stack_fixture(folder / "conftest.py"):
                    return True
            if root is None and any((folder / n).is_file() for n in _INI_FILES):
                break
            if root is not None and (folder == root or root not in folder.parents):
                break
    return False


_INI_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
# options after which no stack starts early, as the command line spells them (see _NO_TESTS)
_NO_TESTS_ARGS = frozenset(
    {
        *("--co", "--collect-only", "--collectonly", "-h", "--help", "--version", "-V"),
        *("--fixtures", "--funcargs", "--fixtures-per-test", "--setup-plan"),
        *("--pycompose-no-prestart", "--dist", "--numprocesses"),
    }
)


def _guess_from_command_line() -> None:
    """At this plugin's import (pytest loads it while it reads its options, 0.05-0.1 s before
    the initial conftests): the spare starts when the command line alone says a first conftest
    makes stack fixtures; ``pytest_load_initial_conftests`` confirms it or lets it go."""
    if _command_line_makes_stacks(sys.argv[1:], os.environ, Path.cwd()):
        from compose.project.detached import prespawn

        prespawn()


def _command_line_makes_stacks(argv: Sequence[str], environ: Mapping[str, str], cwd: Path) -> bool:
    """Not in an xdist worker (its own start does it), nor with anything ``-n``-like or a
    session that runs no test: the guess stays on the safe side, where it costs nothing."""
    if not environ.get("PYTEST_VERSION") or environ.get("PYTEST_XDIST_WORKER"):
        return False  # not a pytest session's import, or a worker
    import shlex

    try:
        args = [*argv, *shlex.split(environ.get("PYTEST_ADDOPTS", ""))]
    except ValueError:
        return False
    if any(a.partition("=")[0] in _NO_TESTS_ARGS or a.startswith("-n") for a in args):
        return False
    positional = [
        a for a in args if not a.startswith("-") and (cwd / a.partition("::")[0]).exists()
    ]
    return _conftests_make_stacks(cwd, positional, None)


def _calls_stack_fixture(path: Path) -> bool:
    try:
        return b"stack_fixture" in path.read_bytes()
    except OSError:
        return False


class _Prestart:
    """A session stack brought up in a thread from its conftest's import, for its fixture."""

    def __init__(self, definition: Any, stack: Stack, name: str | None) -> None:
        self.definition = definition
        self.stack = stack
        self.name = name  # stack_fixture's; else the conftest's attribute names it
        self.names: set[str] = {name} if name else set()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._up, name=f"pycompose up {stack.project}")
        self._thread.daemon = True
        self._released: threading.Thread | None = None
        _PRESTARTS.append(self)
        self._thread.start()

    def _up(self) -> None:
        try:
            self.stack.up()
        except BaseException as exc:  # the fixture raises it
            self.error = exc

    def take(self) -> Stack | None:
        """The stack, once up (its error raised): the fixture's from now on. None: it went
        down again (no collected test named it; one asked for it by ``getfixturevalue``)."""
        if self._released is not None:
            self.join()
            return None
        _PRESTARTS.remove(self)
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.stack

    def release(self) -> None:
        """Brought down in the background (once its start has ended): nothing took it."""
        if self._released is None:
            self._released = threading.Thread(target=self._down, daemon=True)
            self._released.start()

    def _down(self) -> None:
        self._thread.join()
        if self.error is not None:
            return  # torn down already
        try:
            self.stack.down()
        except Exception as exc:  # its reaper still has it
            warnings.warn(PycomposeWarning(f"{self.stack.project}: down: {exc}"), stacklevel=1)

    def join(self) -> None:
        if self._released is not None:
            self._released.join()
        if self in _PRESTARTS:
            _PRESTARTS.remove(self)


def _may_prestart(config: pytest.Config | None) -> bool:
    if config is None:
        return False
    ns = config.known_args_namespace
    if getattr(ns, "pycompose_no_prestart", False) or any(getattr(ns, k, 0) for k in _NO_TESTS):
        return False
    controller = getattr(ns, "numprocesses", None) or getattr(ns, "dist", "no") != "no"
    return not controller or bool(os.environ.get("PYTEST_XDIST_WORKER"))


def _prestart(
    definition: Any, name: str | None, files: Files, options: dict[str, Any]
) -> _Prestart | None:
    config = _EARLY[0] if _EARLY else None
    if not _may_prestart(config):
        return None
    from compose.testing.stack import Stack

    assert config is not None
    timeout = getattr(config.known_args_namespace, "pycompose_timeout", None)
    own = {"timeout": float(timeout), **options} if timeout is not None else options
    return _Prestart(definition, Stack(files, **own), name)


def pytest_plugin_registered(plugin: object) -> None:
    """A conftest holding a stack started early: the names its fixture has there."""
    if not _PRESTARTS or not hasattr(plugin, "__file__"):
        return
    for attr, value in vars(plugin).items():
        for early in _PRESTARTS:
            if value is early.definition:
                early.names.add(early.name or attr)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Stacks started early that no selected test uses go down (in the background)."""
    if not _PRESTARTS:
        return
    used = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    for early in _PRESTARTS[:]:
        if early.names and not early.names & used:  # no names: not made in a conftest, kept
            early.release()


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
    prestart: bool = True,
    **options: Any,
) -> Any:
    """A fixture that brings ``files`` up as a ``Stack`` for its ``scope`` (a pytest scope, or
    a callable for a dynamic one) and yields it; ``options``: ``Stack``'s (``project``,
    ``env``, ``profiles``, ``env_file``, ``timeout``...). Relative files are found next to the
    module that calls this (the conftest). ``prestart``: a session stack starts going up now,
    while pytest collects (the variables it interpolates are read now, then)."""
    caller = sys._getframe(1).f_globals.get("__file__")
    options.setdefault("cwd", Path(caller).parent if caller else Path.cwd())
    early: list[_Prestart] = []

    @pytest.fixture(scope=scope, name=name, autouse=autouse)  # type: ignore[arg-type]
    def _stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
        from compose.testing.stack import Stack

        session = _session(request.config)
        stack = early.pop().take() if early else None  # an error: it explains (torn down)
        if stack is None:
            if session.timeout() is not None:
                options.setdefault("timeout", session.timeout())
            stack = Stack(files, **options)
            stack.up()
        session.active[stack.project] = stack
        try:
            yield stack
        finally:
            session.active.pop(stack.project, None)
            session.finish(stack)

    if prestart and scope == "session":
        started = _prestart(_stack, name, files, options)
        early.extend([started] if started else [])
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


_guess_from_command_line()
