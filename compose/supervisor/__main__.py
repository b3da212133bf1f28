"""``python -m compose.supervisor``: the detached supervisor of one project (``up -d``).

Protocol with the client that started it (with setsid; ``compose.project.detached``):

    stdin  ◄── one JSON object: a ``protocol.Launch`` (load options, up options, run options)
    stdout ──► JSON lines {"progress": ...} / {"warning": ...} ... then {"result": {...}}
               after "result" stdout is closed: the client exits, we keep supervising.
    stderr ──► <run>/projects/<project>/supervisor.log (set up here once the project is known)

A supervisor that started in the meantime for the same project (two `up -d` at once) gets the
request instead, and this process exits.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


class PipeOutput:
    """Progress lines to the client that started us (``protocol.LineOutput``'s), until the
    result line; then stdout goes to /dev/null."""

    def __init__(self) -> None:
        from compose.supervisor import protocol as p

        self.open = True
        self.lines = p.LineOutput(self._send)
        self.step, self.progress, self.warning = (
            self.lines.step,
            self.lines.progress,
            self.lines.warning,
        )

    def _send(self, doc: dict[str, Any]) -> None:
        if not self.open:
            return
        try:
            sys.stdout.write(json.dumps(doc) + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, OSError):
            self.open = False

    def log(self, line: str) -> None:
        pass  # a detached supervisor shows no replica output

    def ready(self, result: dict[str, Any]) -> None:
        self._send({"result": result})
        self.open = False
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)


def main(spare: bool = False) -> int:
    """``spare``: started ahead of its request (``detached.prespawn``): the model's import is
    paid while the client has not written it yet, and no request (stdin closed) ends it."""
    from compose.runtime import LinuxRuntime

    runtime = LinuxRuntime()
    runtime.warm()  # the zygote boots on the other core while we import and load the stack

    import anyio

    from compose import paths
    from compose.errors import PycomposeError, UserError
    from compose.supervisor import protocol as p
    from compose.supervisor.run import run_up
    from compose.supervisor.service import load_stack

    paths.private_umask()
    if spare:
        _warm_up()
    text = sys.stdin.read()
    if spare and not text:  # never used
        runtime.close()
        return 0
    out = PipeOutput()
    try:
        launch = p.decode(p.Launch, json.loads(text))
        stack = load_stack(launch.load)
        if _forward(stack.name, launch, out):
            return 0
        _log_to_project(stack.name)
        code: int = anyio.run(run_up, stack, launch.up, launch.run, out, _ready(out), runtime)
        return code
    except PycomposeError as exc:
        out.ready(_failed(exc, exc.exit_code, exc.hint, isinstance(exc, UserError)))
        return exc.exit_code
    except BaseException as exc:  # the client must always get a result line
        out.ready(_failed(exc, 1, None))
        raise


WARM_UP = "name: warm-up\nservices:\n  s:\n    image: scratch\n"
# what a first `up` imports on its way (networks, images, the runtime's exec): 0.06-0.08 s
FIRST_UP = (
    "netplug.plugin",
    "netplug.dns",
    "netplug.proxy",
    "netplug.ports",
    "compose.images.ensure",
    "compose.graph",
    "compose.runtime.execfast",
    "compose.runtime.copyup",
    "compose.runtime.nsexec",
)


def _warm_up() -> None:
    """What a spare's request would pay before its first step, paid before it comes: the
    model's import (pydantic, the validators), the loader and the YAML parser, pydantic's scan
    for plugins and the first validation and hash (0.7 s at load 15, then 6 ms a stack), the
    event loop's (asyncio's import, 0.05-0.1 s) and the first up's imports."""
    import importlib
    from pathlib import Path

    import anyio

    from compose.model.load import load_stack as validate
    from compose.planner import hashing
    from compose.stackfile.types import LoadOptions

    try:
        stack = validate(LoadOptions(files=("-",), stdin=WARM_UP, environ={}, cwd=Path("/")))
        hashing.container_config(stack.services["s"])
        anyio.run(anyio.sleep, 0)
        for name in FIRST_UP:
            importlib.import_module(name)
    except Exception:  # a warm-up only: the request's load says what is wrong
        return


def _ready(out: PipeOutput) -> Any:
    from compose.supervisor import protocol as p

    def ready(reply: p.PlanReply) -> None:
        out.ready({"ok": reply.ok, **p.encode(reply)})

    return ready


def _failed(
    exc: BaseException, code: int, hint: str | None, user_error: bool = False
) -> dict[str, Any]:
    failures = _messages(exc)
    return {
        "ok": False,
        "failures": failures,
        "exit_code": code,
        "hint": hint,
        "user_error": user_error,
    }


def _forward(project: str, launch: Any, out: PipeOutput) -> bool:
    """A supervisor already runs this project (it started after our client looked): it
    reloads the file and converges; its reply is relayed as ours would be."""
    from compose.supervisor import api, protocol as p

    if api.call(project, p.Status().to_json(), timeout=5) is None:
        return False
    apply = p.Apply(
        launch.load, launch.up, launch.run.pull, launch.run.wait, launch.run.wait_timeout
    )
    doc = api.call(project, apply.to_json(), apply.deadline(), out._send) or {}
    reply = p.decode(p.PlanReply, doc)
    for warning in reply.warnings:
        out.warning(warning)
    out.ready({"ok": reply.ok, "failures": list(reply.failures)})
    return True


def _log_to_project(project: str) -> None:
    from compose.state.layout import supervisor_log

    path = supervisor_log(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)


def _messages(exc: BaseException) -> list[str]:
    if isinstance(exc, BaseExceptionGroup):
        return [m for e in exc.exceptions for m in _messages(e)]
    failures = getattr(exc, "failures", None)
    return list(failures) if failures else [str(exc) or type(exc).__name__]


def _exit(code: int) -> None:
    """Exit without the interpreter's teardown (~30 ms of module and thread cleanup that
    `down` would wait for): everything of ours is closed, logs and streams are flushed here."""
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    _exit(main(spare="--spare" in sys.argv[1:]))
