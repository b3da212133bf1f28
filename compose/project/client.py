"""ProjectClient: the one front door for acting on a project (the CLI is a thin adapter over it,
and it is the public Python API, e.g. for test environments).

Every verb sends a typed request (``compose.supervisor.protocol``) to the project's running
supervisor when there is one, else serves it in this process (``transport``); the reply is the
same either way. Verbs that need a supervisor to keep running (``up -d``, ``start`` where none
runs) start one (``detached``). Nothing here prints except through the ``Output`` it is given,
and failures raise (``compose.errors``).

Importable without root and cheaply: the loop, the machine and pydantic load on first use.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from compose import lazy
from compose.errors import ContainerError, ProjectUpError, UnknownServiceError, UserError
from compose.progress import Silent
from compose.stackfile.types import LoadOptions
from compose.state.records import PAUSED

if TYPE_CHECKING:
    from compose.build.progress import Progress
    from compose.build.request import BuildResult
    from compose.model import Service, Stack
    from compose.planner.actions import Plan
    from compose.planner.desired import DownOptions, UpOptions
    from compose.project.transport import SocketTransport
    from compose.runtime.usage import Usage
    from compose.stackfile import LoadedStack
    from compose.state import ObservedProject, ObservedReplica
    from compose.supervisor import protocol as p
    from compose.supervisor.oneoff import OneOff
    from compose.supervisor.options import Output, Owner, RunOptions
else:  # what only the verbs need loads with the first verb (`ps` reads records only)
    p = lazy.module("compose.supervisor.protocol")

R = TypeVar("R", bound="p.Reply")


class ProjectClient:
    def __init__(
        self,
        load: LoadOptions,
        *,
        name: str | None = None,
        warn: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        """``load``: how to read the stack when a verb needs it; ``name``: the project when
        it is known without the file (``-p``: ps, logs, down of a deleted directory);
        ``warn``: who shows the loader's warnings."""
        if "-" in load.files and load.stdin is None:  # read once: every load reuses the text
            import sys

            load = replace(load, stdin=sys.stdin.read())
        self.load = load
        self._name = name
        self._warn = warn
        self._stack: Stack | None = None
        self._loaded: LoadedStack | None = None
        self._socket: SocketTransport | None = None

    # the project ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """``-p``, else the file's (read without building the typed model: fast)."""
        if self._name is None:
            self._name = self._outline()[0]
        return self._name

    def _outline(self) -> tuple[str, set[str]]:
        """(the file's project name, its services with those its profiles disable), from
        ``compose.model.memo`` while the files the loader read are unchanged: ``exec``,
        ``ps`` and friends ask it on every run, and the YAML parse cost ~45 ms of `exec`."""
        if self._loaded is not None:
            return _outline_of(self._loaded)
        from compose.model import memo
        from compose.stackfile import fs

        found = memo.recall(self.load, "outline", caller=__name__)
        if isinstance(found, list) and len(found) == 2:
            return str(found[0]), set(found[1])
        with fs.recording() as notes:  # the loader's questions: the memo's key
            name, services = _outline_of(self._tree())
        memo.keep(self.load, "outline", notes, [name, sorted(services)], caller=__name__)
        return name, services

    def _tree(self) -> LoadedStack:
        if self._loaded is None:
            from compose.stackfile import load_stack_tree

            self._loaded = load_stack_tree(self.load)
        return self._loaded

    def known_services(self) -> set[str]:
        """The file's services (those its profiles disable too); without a file (``-p`` of a
        project whose directory is gone), those its records name."""
        from compose.errors import StackFileNotFound

        try:
            return self._outline()[1]
        except StackFileNotFound:
            if self._name is None:
                raise
            observed = self.observe()
            recorded = set(observed.project.services) if observed.project else set()
            return recorded | observed.services

    def check_services(self, names: Sequence[str]) -> None:
        """A name that is no service of the project is an error on every command (docker
        compose's ``no such service``), never an empty result."""
        if not names:
            return
        known = self.known_services()
        for name in names:
            if name not in known:
                raise UnknownServiceError(f'no such service: "{name}"')

    @property
    def stack(self) -> Stack:
        """The validated stack (loaded once)."""
        if self._stack is None:
            from compose.model import load_stack

            self._stack = load_stack(self.load)
            if self._warn is not None:
                self._warn(self._stack.warnings)
            from compose.planner.stack import check_services

            check_services(self._stack, self.load.services)
        return self._stack

    def try_stack(self) -> Stack | None:
        """The stack when a file is found; None when the project is named and has no file."""
        from compose.errors import StackFileNotFound

        try:
            return self.stack
        except StackFileNotFound:
            if self._name is not None:
                return None
            raise

    @property
    def socket(self) -> SocketTransport:
        if self._socket is None:
            from compose.project.transport import SocketTransport

            self._socket = SocketTransport(self.name)
        return self._socket

    def observe(self, services: Sequence[str] = ()) -> ObservedProject:
        """What the records say, with liveness (read-only, no lock); ``services``: the names a
        command was given (an unknown one is an error)."""
        from compose.state import observe_project

        self.check_services(services)
        return observe_project(self.name)

    def replicas(
        self, services: Sequence[str] = (), index: int | None = None, running: bool | None = None
    ) -> list[ObservedReplica]:
        """The recorded replicas of ``services`` (all when empty); a named service without
        any is an error."""
        observed = self.observe(services)
        for name in services:
            if name not in observed.services:
                raise UnknownServiceError(
                    f'service "{name}" has no containers in project "{self.name}"'
                )
        picked = [r for r in observed.replicas if not services or r.service in services]
        if index is not None:
            picked = [r for r in picked if r.index == index]
        if running is not None:
            picked = [r for r in picked if r.running == running]
        return picked

    def replica(self, service: str, index: int | None = None) -> ObservedReplica:
        """The running replica ``index`` (default 1) of ``service``."""
        reps = self.replicas((service,), index or 1, running=True)
        if not reps:
            raise ContainerError(f'service "{service}" replica {index or 1} is not running')
        return reps[0]

    def dependencies(self, service: str) -> set[str]:
        """What ``service`` needs started first, transitively (``run`` starts them)."""
        from compose.graph import ServiceGraph

        return ServiceGraph.from_stack(self.stack).dependencies(service, transitive=True)

    def failures(self) -> dict[str, str]:
        """Services the running supervisor's loop gave up on (terminal errors)."""
        from compose.state import StateStore

        return StateStore(self.name).failures()

    # plans (pure: --dry-run, no root) ---------------------------------------------------------
    def plan_up(self, up: UpOptions) -> Plan:
        from compose.planner.planner import plan_up
        from compose.planner.stack import check_services, desired_from_stack
        from compose.supervisor.machine.context import Context

        stack = self.stack
        check_services(stack, up.services)
        desired = desired_from_stack(stack, Context.local_images(stack))
        return plan_up(desired, self.observe(), up)

    def plan_down(self, options: DownOptions) -> Plan:
        from compose.planner.planner import plan_down
        from compose.planner.stack import desired_from_stack

        stack = self.try_stack()
        desired = desired_from_stack(stack) if stack is not None else None
        return plan_down(desired, self.observe(), options)

    # verbs ---------------------------------------------------------------------------------------
    def up(self, up: UpOptions, run: RunOptions, out: Output) -> int:
        """``up``: detached (a supervisor keeps the project: the running one converges, or a
        new one starts), or in the foreground (this process is the supervisor until Ctrl-C or
        the stack exits; its exit code)."""
        from msgspec import structs

        run = structs.replace(run, asked=time.time())  # a `down` asked later ends it
        if run.detach:
            self._detached(up, run, out)
            return 0
        stack = self.stack
        if self.socket.listening():
            return self._attach(up, run, out)
        import anyio

        from compose.project.transport import unwrap
        from compose.supervisor.run import run_up

        code: int = unwrap(lambda: anyio.run(run_up, stack, up, run, out))
        return code

    def _detached(self, up: UpOptions, run: RunOptions, out: Output) -> p.PlanReply:
        load = self.portable_load()
        if self._may_be_running() and self.socket.listening():
            apply = p.Apply(load, up, run.pull, run.wait, run.wait_timeout)
            reply = self._expect(p.PlanReply, self.socket.call(apply, out=out))
            for warning in reply.warnings:
                out.warning(warning)
            if reply.failures:
                raise ProjectUpError(list(reply.failures))
            return reply
        from compose.project.detached import launch

        return launch(p.Launch(load, up, run), out)

    def _attach(self, up: UpOptions, run: RunOptions, out: Output) -> int:
        """A foreground `up` where a supervisor keeps the project (started by `up -d`): it
        converges to the file, then this terminal follows the project as docker compose's
        does; Ctrl-C stops the project (the supervisor keeps it, stopped), a second kills."""
        import signal
        import time

        from msgspec import structs

        since = time.time()
        self._detached(up, structs.replace(run, detach=True, wait=False), out)
        # Ctrl-C and SIGTERM interrupt, also where the shell started us with SIGINT ignored
        # (a background job): docker compose's signal handling does the same
        caught: list[int] = []

        def interrupt(signum: int, _frame: object) -> None:
            caught.append(signum)
            raise KeyboardInterrupt

        saved = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            try:
                reply = self.socket.call(p.Attach(up, run, since), out=out)
            except KeyboardInterrupt:
                self._interrupted(run, out)
                return 128 + (caught[0] if caught else signal.SIGINT)  # 130, 143 for SIGTERM
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)
        return self._expect(p.Exited, reply).code

    def _interrupted(self, run: RunOptions, out: Output) -> None:
        from compose.progress import STOPPING

        out.progress(STOPPING)
        try:
            self.stop((), run.stop_timeout, out)
        except KeyboardInterrupt:
            self.kill(())

    def _may_be_running(self) -> bool:
        """Some project's supervisor listens (one glob: no file is read when none does)."""
        from compose.state.layout import listening_sockets

        return bool(listening_sockets())

    def down(
        self, options: DownOptions, timeout: float | None = None, out: Output | None = None
    ) -> p.DownReply:
        """Stop and remove the project's replicas, networks (and volumes); a supervisor that
        ran it has exited when this returns. ``out`` sees the steps as they happen."""
        self.check_services(options.services)
        if not options.services:  # an `up` asked before, still waiting for the lock, ends
            from compose.state.lock import note_down_asked

            note_down_asked(self.name)
        reply = self._call(p.Down(options, timeout), p.DownReply, out)
        if reply.pid and reply.pid != os.getpid():
            _wait_gone(self.name, reply.pid)
        if reply.failures:
            raise ProjectUpError(list(reply.failures))
        return reply

    def stop(
        self, services: Sequence[str] = (), timeout: float | None = None, out: Output | None = None
    ) -> p.Changed:
        """``out`` sees the steps (``Stopping``, ``Stopped``) as they happen."""
        self.check_services(services)
        return self._call(p.Stop(tuple(services), timeout), p.Changed, out)

    def start(
        self,
        services: Sequence[str] = (),
        out: Output | None = None,
        wait: bool = False,
        wait_timeout: float | None = None,
    ) -> p.Changed | p.PlanReply:
        """Start existing replicas: the running supervisor does, else one is started for them
        (they need one: restart policies), as many as there are (`start` does not scale)."""
        existing = [
            r
            for r in self.observe(services).replicas
            if not r.record.oneoff and (not services or r.service in services)
        ]
        if not existing:
            raise UserError(
                f'project "{self.name}": no containers to start',
                hint="create them with `pycompose up` (or `create`)",
            )
        reply = self.socket.call(p.Start(tuple(services)))
        if reply is not None:
            return self._expect(p.Changed, reply)
        from compose.planner.desired import UpOptions
        from compose.supervisor.options import RunOptions

        counts: dict[str, int] = {}
        for rep in existing:
            counts[rep.service] = counts.get(rep.service, 0) + 1
        up = UpOptions(services=tuple(services), no_deps=True, no_recreate=True, scale=counts)
        run = RunOptions(detach=True, wait=wait, wait_timeout=wait_timeout, pull="never")
        return self._detached(up, run, out or Silent())

    def restart(
        self, services: Sequence[str] = (), timeout: float | None = None, out: Output | None = None
    ) -> list[p.Changed | p.PlanReply]:
        """Stop then start (the file's changes are not applied, as docker compose)."""
        self.check_services(services)
        reply = self.socket.call(p.Restart(tuple(services), timeout))
        if reply is not None:
            return [self._expect(p.Changed, reply)]
        return [self.stop(services, timeout), self.start(services, out)]

    def kill(self, services: Sequence[str] = (), signal: int = 9) -> p.Changed:
        self.replicas(services)  # a service without containers is an error
        return self._call(p.Kill(tuple(services), signal), p.Changed)

    def pause(self, services: Sequence[str] = ()) -> p.Changed:
        self.replicas(services, running=True)
        return self._call(p.Pause(tuple(services)), p.Changed)

    def unpause(self, services: Sequence[str] = ()) -> p.Changed:
        self.replicas(services, running=True)
        return self._call(p.Unpause(tuple(services)), p.Changed)

    def rm(self, services: Sequence[str] = (), volumes: bool = False) -> p.Changed:
        """Remove the stopped replicas (``volumes``: their anonymous volumes too)."""
        self.replicas(services, running=False)
        return self._call(p.Remove(tuple(services), volumes), p.Changed)

    def scale(
        self, counts: dict[str, int], no_deps: bool = False, timeout: float | None = None
    ) -> p.Scaled:
        reply = self._call(p.Scale(counts, no_deps, timeout), p.Scaled)
        if reply.failures:
            from compose.errors import OperationError

            raise OperationError("; ".join(reply.failures))
        return reply

    def exec(
        self,
        service: str,
        argv: Sequence[str],
        *,
        index: int | None = None,
        env: Sequence[str] = (),
        user: str | None = None,
        workdir: str | None = None,
        tty: bool = False,
        detach: bool = False,
    ) -> int:
        """A command in a running replica; its exit code (0 at once with ``detach``).

        A caller without threads (the CLI) forks the exec helper itself rather than starting
        the runtime's zygote for it (``LinuxRuntime(single_threaded=...)``)."""
        import threading

        from compose.runtime import LinuxRuntime
        from compose.runtime.spec import handle_of

        rep = self.replica(service, index)
        if rep.status == PAUSED:
            raise ContainerError(f'container "{rep.name}" is paused', hint="unpause it first")
        handle = handle_of(rep.record)
        runtime = LinuxRuntime(single_threaded=threading.active_count() == 1)
        if detach:
            runtime.exec_process(handle, list(argv), env=list(env), user=user, workdir=workdir)
            return 0
        return runtime.exec(handle, list(argv), env=list(env), user=user, workdir=workdir, tty=tty)

    def copy(
        self,
        service: str,
        paths: tuple[str, str],
        *,
        index: int | None = None,
        into_container: bool,
        follow: bool = False,
        archive: bool = False,
    ) -> None:
        """``cp``: (source, destination), the container's path resolved inside its root
        (``compose.runtime.containercp``: a container's symlinks never lead to the host)."""
        from compose.runtime import containercp

        record = self.replica(service, index).record
        if record.pid is None:
            raise ContainerError(f'service "{service}" replica {record.index} is not running')
        subject = f'service "{service}" replica {record.index}'
        containercp.copy(
            record.pid,
            record.start_time,
            subject,
            paths,
            into_container=into_container,
            follow=follow,
            archive=archive,
        )

    def exec_output(
        self,
        service: str,
        argv: Sequence[str],
        *,
        index: int | None = None,
        env: Sequence[str] = (),
        user: str | None = None,
        workdir: str | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        """A command in a running replica, its output captured: (exit code, stdout+stderr).
        The project's supervisor runs it (its runtime is warm: a few ms, where a runtime made
        here starts a zygote first, ~300 ms)."""
        import base64

        request = p.Exec(
            service, index or 1, tuple(argv), tuple(env), user, workdir,
            base64.b64encode(stdin).decode() if stdin is not None else None, timeout,
        )  # fmt: skip
        reply = self._served(request, p.ExecReply)
        return reply.exit_code, base64.b64decode(reply.output)

    # test environments (compose.testing): verbs only a running supervisor serves -----------
    def ready(self, services: Sequence[str] = (), timeout: float | None = None) -> p.PlanReply:
        """Until ``services`` (all) are ready, as the supervisor's `--wait` decides."""
        return self._served(p.Ready(tuple(services), timeout), p.PlanReply)

    def own(self, owner: Owner | None, kept: str = "") -> p.Changed:
        """The project belongs to ``owner`` from now on: its supervisor brings it down when
        that process dies (None: nobody; it stays up until `down`)."""
        return self._served(p.Own(owner, kept), p.Changed)

    def snapshot(self, name: str = "default", services: Sequence[str] = ()) -> p.Snapshotted:
        return self._served(p.Snapshot(name, tuple(services)), p.Snapshotted)

    def restore(
        self, name: str = "default", services: Sequence[str] = (), timeout: float | None = None
    ) -> p.Snapshotted:
        reply = self._served(p.Restore(name, tuple(services), timeout), p.Snapshotted)
        if reply.failures:
            raise ProjectUpError(list(reply.failures))
        return reply

    def _served(self, request: p.Request, kind: type[R]) -> R:
        reply = self.socket.call(request)
        if reply is None:
            raise UserError(
                f'project "{self.name}": no supervisor runs it ({request.op} needs one)',
                hint="start it detached: `pycompose up -d`",
            )
        return self._expect(kind, reply)

    def wait_ready(self, stop: threading.Event, interval: float = 0.1) -> bool:
        """Until the project's supervisor has run its plan (True), or ``stop`` is set."""
        while not stop.is_set():
            reply = self.socket.call(p.Status(), timeout=5)
            if isinstance(reply, p.StatusReply) and reply.ready:
                return True
            stop.wait(interval)
        return False

    def sync(self, service: str, items: Sequence[tuple[Path, str]]) -> int:
        """``watch``'s sync: (host path, container path) pairs into every running replica of
        ``service`` (a path gone from the host goes from the container); how many got them."""
        from compose.runtime import containersync

        replicas = [r for r in self.replicas((service,), running=True) if not r.record.oneoff]
        for rep in replicas:
            if rep.record.pid is not None:
                subject = f'service "{service}" replica {rep.index}'
                containersync.sync(rep.record.pid, rep.record.start_time, subject, items)
        return len(replicas)

    def processes(self, services: Sequence[str] = ()) -> list[tuple[ObservedReplica, list[int]]]:
        """Each running replica's processes (``top``): the pids in its cgroup."""
        from compose.runtime.cgroups import detect

        cgroups = detect()
        out = []
        for rep in self.replicas(services, running=True):
            path = rep.record.runtime.get("cgroup_path", "")
            out.append((rep, cgroups.pids(path) if path and cgroups.exists(path) else []))
        return out

    def usage(
        self, services: Sequence[str] = (), all_replicas: bool = False
    ) -> list[tuple[ObservedReplica, Usage | None]]:
        """What each replica uses now (``stats``): None for one that does not run."""
        from compose.runtime.usage import Target, sample

        reps = [r for r in self.replicas(services) if not r.record.oneoff]
        running = [r for r in reps if r.running and r.record.runtime.get("cgroup_path")]
        targets = [Target(r.record.runtime["cgroup_path"], r.record.pid) for r in running]
        found = dict(zip([r.name for r in running], sample(targets), strict=True))
        return [(r, found.get(r.name)) for r in reps if all_replicas or r.name in found]

    def wait(
        self,
        services: Sequence[str],
        on_exit: Callable[[ObservedReplica], None],
        first: bool = False,
    ) -> int:
        """Until the running replicas of ``services`` have exited (``first``: one has);
        ``on_exit`` sees each exit. The last exit code (docker compose's ``wait``)."""
        import time

        from compose.errors import OperationError

        waiting = {r.record.container_id: r for r in self.replicas(services, running=True)}
        if not waiting:
            raise OperationError(f'no containers for project "{self.name}"')
        code = 0
        while waiting:
            _wait_any([r.record.pid for r in waiting.values()], 0.5)
            observed = self.observe()
            for rep in observed.replicas:
                ident = rep.record.container_id
                if ident not in waiting or rep.running:
                    continue
                if rep.record.exit_code is not None or observed.supervisor_pid is None:
                    del waiting[ident]  # its supervisor recorded the code (none: no code)
                    code = rep.record.exit_code or 0
                    on_exit(rep)
                    if first:
                        return code
            time.sleep(0.02)
        return code

    def run(
        self,
        svc: Service,
        name: str | None = None,
        pull: str | None = None,
        out: Output | None = None,
    ) -> OneOff:
        """A one-off container of ``svc`` (the service with `run`'s overrides), not yet
        created; not supervised (see ``compose.supervisor.oneoff``). ``pull``: a pull policy
        over the service's; ``out`` sees the pull."""
        import secrets

        from compose.supervisor.oneoff import OneOff

        name = name or f"{self.name}-{svc.name}-run-{secrets.token_hex(6)}"
        return OneOff(self.stack, svc, name, pull, (out or Silent()).step)

    def build(
        self,
        services: Sequence[str] = (),
        *,
        no_cache: bool = False,
        pull: bool = False,
        args: Mapping[str, str] | None = None,
        with_dependencies: bool = False,
        progress: Progress | None = None,
    ) -> dict[str, BuildResult]:
        """Build the images of the services with ``build:`` (``pycompose build``): service ->
        its BuildResult. ``progress`` sees the steps (``compose.build.progress``; silent by
        default); a failing build raises BuildError. Needs root (RUN steps are containers)."""
        from compose.build import stack as stackbuild
        from compose.build.executor import Builder

        stack = self.stack
        names = stackbuild.services_to_build(stack, services, with_dependencies)
        flags = stackbuild.BuildFlags(
            no_cache=no_cache, pull=pull, args=dict(args or {}), environ=self.load.environ
        )
        builder = Builder(progress=progress)
        try:
            results: dict[str, BuildResult] = stackbuild.build_services(
                stack, names, flags, builder
            )
        finally:
            builder.close()
        return results

    def service_images(self, rmi: str) -> list[str]:
        """The images `down --rmi` removes: from the file, else from the records. ``local``:
        only images named after the project (services without ``image:``, i.e. built)."""
        stack = self.try_stack()
        if stack is not None:
            pairs = [(s.image_name(self.name), s.image is None) for s in stack.services.values()]
        else:
            recs = [r.record for r in self.observe().replicas if r.record.image]
            pairs = [(r.image, r.image == f"{self.name}-{r.service}") for r in recs]
        return sorted({ref for ref, built in pairs if rmi == "all" or built})

    # the transport choice -----------------------------------------------------------------------
    def _call(self, request: p.Request, kind: type[R], out: Output | None = None) -> R:
        """The running supervisor serves it, else this process does (under the lock); ``out``
        sees its steps as they happen either way."""
        out = out or Silent()
        reply = self.socket.call(request, out=out)
        if reply is None:
            from compose.project.transport import LocalTransport

            reply = LocalTransport(self.name, self.try_stack, out).call(request)
        return self._expect(kind, reply)

    @staticmethod
    def _expect(kind: type[R], reply: p.Reply | None) -> R:
        if not isinstance(reply, kind):
            from compose.errors import OperationError

            raise OperationError(f"unexpected reply {reply!r}")
        return reply

    def portable_load(self) -> LoadOptions:
        """The load options as another process needs them: absolute paths (the file read
        from stdin is in them already)."""
        cwd = Path(self.load.cwd).resolve()

        def absolute(path: str) -> str:
            return path if path == "-" else str((cwd / path).resolve())

        return replace(
            self.load,
            files=tuple(absolute(f) for f in self.load.files),
            project_directory=absolute(self.load.project_directory)
            if self.load.project_directory
            else None,
            env_files=tuple(absolute(f) for f in self.load.env_files),
            environ=dict(self.load.environ),
            cwd=cwd,
        )


def _wait_any(pids: Sequence[int | None], timeout: float) -> None:
    """Until one of the processes ends (pidfds: at once) or ``timeout``."""
    import select

    fds = []
    try:
        for pid in pids:
            if pid:
                try:
                    fds.append(os.pidfd_open(pid))
                except OSError:
                    return  # gone already
        select.select(fds, [], [], timeout)
    finally:
        for fd in fds:
            os.close(fd)


def _wait_gone(project: str, pid: int, timeout: float = 30.0) -> None:
    """Until the supervisor has exited (a pidfd says so at once) and its lock is free."""
    import select
    import time

    from compose.procfs import is_alive
    from compose.state import is_locked

    deadline = time.monotonic() + timeout
    try:
        fd = os.pidfd_open(pid)
    except OSError:  # gone already (or no pidfd): the polling loop decides
        fd = None
    if fd is not None:
        try:
            select.select([fd], [], [], timeout)
        finally:
            os.close(fd)
    while (is_locked(project) or is_alive(pid, None)) and time.monotonic() < deadline:
        time.sleep(0.005)


def _outline_of(loaded: LoadedStack) -> tuple[str, set[str]]:
    services = loaded.tree.get("services")
    names = set(services if isinstance(services, dict) else {})
    return loaded.name, names | set(loaded.disabled_services)
