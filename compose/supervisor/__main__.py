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
from pathlib import Path
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

    from compose.model import load_stack
    from compose.planner import UpOptions
    from compose.project import Project
    from compose.stackfile import LoadOptions
    from compose.supervisor.run import RunOptions, run_up

    request = json.loads(sys.stdin.read())
    load = dict(request["load"])
    load["cwd"] = Path(load.get("cwd", "."))
    for key in ("files", "env_files", "profiles", "services"):
        load[key] = tuple(load.get(key, ()))
    out = PipeOutput()
    try:
        project = Project(load_stack(LoadOptions(**load)))
        up = UpOptions(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in request["up"].items()}
        )
        run = RunOptions(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in request["run"].items()}
        )
        return anyio.run(run_up, project, up, run, out, out.ready, _reloader(LoadOptions, Project))
    except BaseException as exc:  # the client must always get a result line
        out.ready({"ok": False, "failures": _messages(exc), "warnings": []})
        raise


def _reloader(load_options: Any, project_cls: Any) -> Any:
    from compose.model import load_stack

    def reload(load: dict[str, Any]) -> Any:
        fields = {**load, "cwd": Path(load.get("cwd", "."))}
        for key in ("files", "env_files", "profiles", "services"):
            fields[key] = tuple(fields.get(key, ()))
        return project_cls(load_stack(load_options(**fields)))

    return reload


def _messages(exc: BaseException) -> list[str]:
    if isinstance(exc, BaseExceptionGroup):
        return [m for e in exc.exceptions for m in _messages(e)]
    failures = getattr(exc, "failures", None)
    return list(failures) if failures else [str(exc) or type(exc).__name__]


if __name__ == "__main__":
    sys.exit(main())
