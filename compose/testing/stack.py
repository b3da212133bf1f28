"""``Stack``: a Compose stack brought up for tests, on the project front door (``ProjectClient``).

    with Stack("compose.yaml") as stack:           # up: ready or an error that says why
        host, port = stack.address("redis", 6379)  # the container's IP: nothing published
        stack.exec("redis", "redis-cli", "ping")   # Result(exit_code=0, output="PONG\\n")
        stack.snapshot()                           # ... tests write ...
        stack.restore()                            # the volumes as they were, ready again
                                                   # down -v on exit, also when up failed

The project is named from the stack's identity (``identity``: run, xdist worker, config hash),
so parallel workers never collide; its supervisor is the reaper (it downs the stack when this
process dies, even by SIGKILL). Queries (``address``, ``env``, ``logs``) read the project's
records and files in this process: no subprocess per call. Needs root (pycompose makes the
containers itself); importing it does not.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from compose.errors import PycomposeError, StackError
from compose.testing.identity import StackIdentity, identity

if TYPE_CHECKING:
    from compose.progress import Step
    from compose.project import LoadOptions, ProjectClient
    from compose.supervisor.protocol import Snapshotted

DEFAULT_TIMEOUT = 60.0  # the readiness deadline (docker compose's `--wait` has none)
STOP_TIMEOUT = 2.0  # grace of stops: a test stack's teardown takes seconds, not 10 s each
Files = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


F = TypeVar("F", bound=Callable[..., Any])


def _stack_errors(method: F) -> F:
    """One error type for the API's users: pycompose's errors come out as ``StackError``."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except StackError:
            raise
        except PycomposeError as exc:
            raise StackError(str(exc), hint=exc.hint) from exc

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class Result:
    """What ``exec`` returns: the exit code and the output (stdout and stderr, interleaved)."""

    exit_code: int
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def check(self) -> Result:
        if not self.ok:
            raise StackError(f"exit {self.exit_code}: {self.output.strip()[-2000:]}")
        return self


class Stack:
    def __init__(
        self,
        files: Files,
        project: str | None = None,
        env: Mapping[str, str] | None = None,
        profiles: Sequence[str] = (),
        env_file: str | os.PathLike[str] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        stop_timeout: float = STOP_TIMEOUT,
        cwd: str | os.PathLike[str] | None = None,
        run_id: str | None = None,
        worker: str | None = None,
    ) -> None:
        """``files``: one or more compose files (relative to ``cwd``); ``project``: the base
        of the project name (default: the file's ``name:`` or directory); ``env``: variables
        for interpolation, over the environment; ``timeout``: how long ``up`` and the waits
        after start/restart/scale/restore may take."""
        here = Path(cwd) if cwd is not None else Path.cwd()
        paths = [files] if isinstance(files, str | os.PathLike) else list(files)
        self.files = tuple((here / Path(f)).resolve() for f in paths)
        self.variables = dict(env or {})  # interpolation variables (``env``)
        self.profiles = tuple(profiles)
        self.env_file = (here / Path(env_file)).resolve() if env_file is not None else None
        self.timeout = timeout
        self.stop_timeout = stop_timeout
        self.cwd = here
        base = project or self._file_name()
        self.identity: StackIdentity = identity(
            base, self.files, self.variables, self.profiles, self.env_file, run_id, worker
        )
        self.project = self.identity.project
        self.up_at: float | None = None  # time.time() of the end of `up`
        self._client: ProjectClient | None = None

    def __repr__(self) -> str:
        return f"Stack({self.project!r})"

    # lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        self.up()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.down()
        except PycomposeError:
            if exc is None:  # never hide the test's own error behind a teardown's
                raise

    def up(self) -> None:
        """Bring the stack up and wait until every service is ready (bounded by ``timeout``);
        on a failure it is brought down again and the error says why."""
        from compose.project import RunOptions, UpOptions
        from compose.supervisor.options import TEST
        from compose.testing.sweep import sweep_once

        sweep_once()
        run = RunOptions(
            detach=True,
            wait=True,
            wait_timeout=self.timeout,
            stop_timeout=self.stop_timeout,
            owner=self._owner(),
            readiness=TEST,
        )
        out = _Collected()
        try:
            self.client.up(UpOptions(remove_orphans=True), run, out)
        except BaseException as exc:
            self._down_after_failure()
            if isinstance(exc, PycomposeError):
                raise StackError(
                    f'stack "{self.project}" did not come up:\n{exc}', hint=exc.hint
                ) from exc
            raise
        self.up_at = time.time()

    @_stack_errors
    def down(self) -> None:
        """``down -v``: every container, network and volume (snapshots too) goes."""
        from compose.project import DownOptions

        self.client.down(
            DownOptions(remove_volumes=True, remove_orphans=True), timeout=self.stop_timeout
        )
        self.up_at = None

    @_stack_errors
    def keep(self, reason: str = "kept") -> None:
        """Leave the stack up after this process ends (the reaper lets go of it); bring it
        down later with ``pycompose -p <project> down -v``."""
        self.client.own(None, kept=reason)

    def _down_after_failure(self) -> None:
        try:
            self.down()
        except PycomposeError:
            pass  # the up's error is the one to report; the reaper still has the stack

    def _owner(self) -> Any:
        from compose.project import Owner

        ident = self.identity
        labels = {k: v for k, v in ident.labels.items() if not k.startswith("io.pycompose.owner.")}
        return Owner(ident.owner_pid, ident.owner_start, True, self.stop_timeout, labels)

    # the front door ------------------------------------------------------------------------------
    @property
    def client(self) -> ProjectClient:
        if self._client is None:
            from compose.project import ProjectClient

            self._client = ProjectClient(self._load(self.project), name=self.project)
        return self._client

    def _load(self, project: str | None) -> LoadOptions:
        """How to read the stack; ``project``: the name it gets (None: its own)."""
        from compose.project import LoadOptions

        return LoadOptions(
            files=tuple(str(f) for f in self.files),
            project_name=project,
            env_files=(str(self.env_file),) if self.env_file else (),
            profiles=self.profiles,
            environ={**os.environ, **self.variables},
            cwd=self.cwd,
        )

    def _file_name(self) -> str:
        """The stack's own name: a literal top-level ``name:`` read off the text (loading the
        files costs ~0.2 s), else what the loader says (interpolated), else the directory."""
        name = _top_name(self.files)
        if name is None:
            return self.files[0].parent.name
        if "$" not in name:
            return name
        from compose.stackfile import load_stack_tree

        return load_stack_tree(self._load(None)).name

    # queries (in-process) ------------------------------------------------------------------------
    @_stack_errors
    def address(
        self, service: str, port: int, index: int = 1, network: str | None = None
    ) -> tuple[str, int]:
        """Where the test process reaches ``service``'s ``port``: replica ``index``'s IP on
        its bridge (``network``: which, default its first) and the container port itself.
        No port needs publishing; a service on the host's network is on 127.0.0.1."""
        record = self.client.replica(service, index).record
        if network is not None:
            if network not in record.ips:
                raise StackError(f'service "{service}" is not on network "{network}"')
            return record.ips[network], int(port)
        ip = next(iter(record.ips.values()), None)
        if ip is None:
            if record.netns is None:
                return "127.0.0.1", int(port)
            raise StackError(f'service "{service}" replica {index} has no address of its own')
        return ip, int(port)

    def url(
        self, service: str, port: int, scheme: str = "http", path: str = "/", index: int = 1
    ) -> str:
        host, port = self.address(service, port, index)
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{port}{path if path.startswith('/') else '/' + path}"

    @_stack_errors
    def env(self, service: str, index: int = 1) -> dict[str, str]:
        """The environment replica ``index``'s main process was started with."""
        record = self.client.replica(service, index).record
        try:
            raw = Path(f"/proc/{record.pid}/environ").read_bytes()
        except OSError as exc:
            raise StackError(f'service "{service}" replica {index}: {exc.strerror}') from exc
        pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
        return {k.decode(errors="replace"): v.decode(errors="replace") for k, _, v in pairs}

    @_stack_errors
    def logs(
        self, service: str | None = None, tail: int | None = None, since: float | None = None
    ) -> str:
        """The replicas' output, oldest first; ``since``: a time.time() (a test's start);
        ``tail``: the last lines of each replica. Prefixed ``web-1 | `` unless one service."""
        from compose.logs import parse_time, read_all

        services = (service,) if service else ()
        lines = []
        for rep in self.client.replicas(services):
            if rep.record.oneoff or not rep.record.log_path:
                continue
            source = f"{rep.service}-{rep.index}"
            lines += read_all(source, Path(rep.record.log_path), tail=tail, since=since)
        lines.sort(key=lambda ln: parse_time(ln.time) or 0.0)
        if service is not None and len({ln.source for ln in lines}) <= 1:
            return "".join(f"{ln.text}\n" for ln in lines)
        return "".join(f"{ln.source} | {ln.text}\n" for ln in lines)

    @_stack_errors
    def services(self) -> list[str]:
        """The stack's services that have containers."""
        return sorted({r.service for r in self.client.replicas() if not r.record.oneoff})

    # actions -------------------------------------------------------------------------------------
    @_stack_errors
    def exec(
        self,
        service: str,
        *argv: str,
        index: int = 1,
        env: Mapping[str, str] | None = None,
        user: str | None = None,
        workdir: str | None = None,
        input: str | bytes | None = None,
        timeout: float | None = 60.0,
    ) -> Result:
        """A command in replica ``index``: its exit code and output (``input``: its stdin)."""
        data = input.encode() if isinstance(input, str) else input
        code, output = self.client.exec_output(
            service,
            list(argv),
            index=index,
            env=[f"{k}={v}" for k, v in (env or {}).items()],
            user=user,
            workdir=workdir,
            stdin=data,
            timeout=timeout,
        )
        return Result(code, output.decode(errors="replace"))

    @_stack_errors
    def scale(self, service: str, replicas: int) -> None:
        """``replicas`` of ``service``, the new ones ready."""
        self.client.scale({service: replicas}, timeout=self.timeout)
        self._ready([service])

    @_stack_errors
    def stop(self, service: str) -> None:
        self.client.stop([service], timeout=self.stop_timeout)

    @_stack_errors
    def start(self, service: str) -> None:
        self.client.start([service])
        self._ready([service])

    @_stack_errors
    def restart(self, service: str) -> None:
        self.client.restart([service], timeout=self.stop_timeout)
        self._ready([service])

    @_stack_errors
    def snapshot(self, name: str = "default", services: Sequence[str] | None = None) -> Snapshotted:
        """Copy the volumes the services (all) mount as snapshot ``name``; their replicas are
        frozen meanwhile, so the copy is crash-consistent (what a power cut would leave)."""
        return self.client.snapshot(name, tuple(services or ()))

    @_stack_errors
    def restore(self, name: str = "default", services: Sequence[str] | None = None) -> Snapshotted:
        """The volumes as snapshot ``name`` holds them: every replica mounting one is killed,
        what changed since is copied back, the replicas are started and waited for."""
        return self.client.restore(name, tuple(services or ()), self.timeout)

    @_stack_errors
    def _ready(self, services: Sequence[str]) -> None:
        reply = self.client.ready(services, self.timeout)
        if reply.failures:
            raise StackError("\n".join(reply.failures))


def _top_name(files: Sequence[Path]) -> str | None:
    """The last file's top-level ``name:`` value as written (None: no file sets one)."""
    found = None
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            return "$"  # let the loader say what is wrong with it
        for line in text.splitlines():
            if line.startswith("name:"):
                found = line.partition(":")[2].split("#")[0].strip().strip("'\"") or found
    return found


class _Collected:
    """``up``'s progress, kept (not printed): a failure's message has what matters."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, step: Step) -> None:
        if step.done:
            self.lines.append(step.line())

    def progress(self, line: str) -> None:
        self.lines.append(line)

    def log(self, line: str) -> None:
        pass

    def warning(self, text: str) -> None:
        import warnings

        warnings.warn(text, stacklevel=2)
