"""The CLI's side of a detached supervisor (``up -d``, ``create``, ``start``, ``run``): hand the
request to the project's running supervisor, or start one (``python -m compose.supervisor``)
and relay its progress until it is ready.

Light on purpose: neither the loop (anyio) nor the planner is imported, so an ``up -d`` against a
running project costs the CLI little more than click and one socket round trip.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any


def start_detached(
    load: dict[str, Any],
    up: dict[str, Any],
    run: Any,
    out: Any,
    project: str | None = None,
) -> int:
    """``load``: LoadOptions fields, ``up``: UpOptions fields, ``run``: RunOptions.

    The supervisor loads the stack itself (the CLI doesn't, to start faster); when another
    supervisor already runs the project it forwards the request there and exits. With
    ``project`` (its name) a running supervisor gets the request from here directly: no
    interpreter start and stack load in between (~200 ms of an `up -d --scale`).
    """
    request = {"load": load, "up": up, "run": dataclasses.asdict(run)}
    request = json.loads(json.dumps(request, default=str))
    result = forward_to_supervisor(project, request, out) if project else None
    if result is None:
        result = _spawn_supervisor(request, out)
    for failure in result.get("failures", []):
        out.error(failure)
    if result.get("hint"):
        out.hint(result["hint"])
    return 0 if result.get("ok") else int(result.get("exit_code", 1))


def forward_to_supervisor(project: str, request: dict[str, Any], out: Any) -> dict[str, Any] | None:
    """The running supervisor's reply relayed as the detached one's would be; None: none runs."""
    from compose.supervisor import api

    reply = api.forward_up(project, request)
    if reply is None:
        return None
    for line in reply.get("actions", []):
        out.progress(line)
    for warning in reply.get("warnings", []):
        out.warning(warning)
    failures = reply.get("failures", [])
    return {"ok": not failures, "failures": failures}


def _spawn_supervisor(request: dict[str, Any], out: Any) -> dict[str, Any]:
    import subprocess
    import sys

    from compose.state.layout import start_log

    start_log().parent.mkdir(parents=True, exist_ok=True)
    with open(start_log(), "ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "compose.supervisor"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            start_new_session=True,
            close_fds=True,
        )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(request).encode())
    proc.stdin.close()
    return _relay(proc.stdout, out)


def _relay(stream: Any, out: Any) -> dict[str, Any]:
    for raw in stream:
        doc = json.loads(raw)
        if "progress" in doc:
            out.progress(doc["progress"])
        elif "warning" in doc:
            out.warning(doc["warning"])
        elif "result" in doc:
            result: dict[str, Any] = doc["result"]
            return result
    return {
        "ok": False,
        "failures": ["the supervisor exited before it was ready (see supervisor.log)"],
    }
