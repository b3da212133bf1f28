"""``python -m compose.supervisor``: the detached supervisor of one project (``up -d``).

Protocol with the ``up -d`` client (which started us with setsid):

    stdin  ◄── one JSON object {"load": LoadOptions fields, "up": UpOptions, "run": RunOptions}
    stdout ──► JSON lines {"progress": ...} / {"warning": ...} ... then {"result": {...}}
               after "result" stdout is closed: the client exits, we keep supervising.
    stderr ──► <run>/projects/<project>/supervisor.log (set up by the client)
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


class PipeOutput:
    def __init__(self) -> None:
        self.open = True

    def _send(self, doc: dict[str, Any]) -> None:
        if not self.open:
            return
        try:
            sys.stdout.write(json.dumps(doc) + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, OSError):
            self.open = False

    def progress(self, line: str) -> None:
        self._send({"progress": line})

    def log(self, line: str) -> None:
        pass

    def warning(self, text: str) -> None:
        self._send({"warning": text})

    def ready(self, result: dict[str, Any]) -> None:
        self._send({"result": result})
        self.open = False
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)


def main() -> int:
    import anyio

    from compose.errors import PycomposeError
    from compose.planner import UpOptions
    from compose.supervisor.options import RunOptions
    from compose.supervisor.run import reload_project, run_up

    request = json.loads(sys.stdin.read())
    out = PipeOutput()
    try:
        project = reload_project(request["load"])
        if _forward(project.name, request, out):
            return 0
        _log_to_project(project.name)
        up = UpOptions.from_json(request["up"])
        run = RunOptions(**_tuples(request["run"]))
        return anyio.run(run_up, project, up, run, out, out.ready)
    except PycomposeError as exc:
        out.ready(
            {"ok": False, "failures": _messages(exc), "exit_code": exc.exit_code, "hint": exc.hint}
        )
        return exc.exit_code
    except BaseException as exc:  # the client must always get a result line
        out.ready({"ok": False, "failures": _messages(exc), "warnings": []})
        raise


def _tuples(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}


def _forward(project: str, request: dict[str, Any], out: PipeOutput) -> bool:
    """A supervisor already runs this project: it reloads the file and converges."""
    from compose.supervisor.client import forward_to_supervisor

    result = forward_to_supervisor(project, request, out)
    if result is None:
        return False
    out.ready({**result, "warnings": []})
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
    _exit(main())
