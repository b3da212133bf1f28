"""Starting a detached supervisor (``up -d`` where none runs): ``python -m compose.supervisor``
in its own session, the ``Launch`` on its stdin, its progress relayed until it is ready.

Light on purpose: the supervisor (anyio, the loop, the runtime) is not imported here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import IO, Any

from compose.errors import ProjectUpError, PycomposeError, UserError
from compose.state.layout import start_log
from compose.supervisor import protocol as p
from compose.supervisor.options import Output


def launch(request: p.Launch, out: Output) -> p.PlanReply:
    """Start the supervisor and relay its lines until its result; raise when it failed."""
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
    proc.stdin.write(json.dumps(p.encode(request)).encode())
    proc.stdin.close()
    return result(_relay(proc.stdout, out))


def result(doc: dict[str, Any]) -> p.PlanReply:
    """The supervisor's result line as a reply, or its failure raised as the error it was."""
    reply = p.decode(p.PlanReply, doc)
    if doc.get("ok"):
        return reply
    failures = list(reply.failures) or ["the supervisor failed (see supervisor.log)"]
    error: PycomposeError = (
        UserError("\n".join(failures), hint=doc.get("hint"))
        if doc.get("user_error")
        else ProjectUpError(failures, hint=doc.get("hint"))
    )
    error.exit_code = int(doc.get("exit_code") or 1)
    raise error


def _relay(stream: IO[bytes], out: Output) -> dict[str, Any]:
    for raw in stream:
        doc = json.loads(raw)
        if "result" in doc:
            found: dict[str, Any] = doc["result"]
            return found
        p.replay(doc, out)
    return {
        "ok": False,
        "failures": ["the supervisor exited before it was ready (see supervisor.log)"],
    }
