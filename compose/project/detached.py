"""Starting a detached supervisor (``up -d`` where none runs): ``python -m compose.supervisor``
in its own session, the ``Launch`` on its stdin, its progress relayed until it is ready.

A process may start one ahead of its request (``prespawn``: a test session does while pytest
collects): that spare imports the supervisor and the model meanwhile and waits on its stdin; the
next ``launch`` from the same environment and directory hands it the request instead of starting
a supervisor, and ``release_spare`` lets an unused one exit.

Light on purpose: the supervisor (anyio, the loop, the runtime) is not imported here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import IO, Any

from compose.errors import ProjectUpError, PycomposeError, UserError
from compose.state.layout import start_log
from compose.supervisor import protocol as p
from compose.supervisor.options import Output


@dataclass(frozen=True)
class _Spare:
    proc: subprocess.Popen[bytes]
    environ: dict[str, str]  # what it inherited: a launch from another one starts its own
    cwd: str


_SPARE: list[_Spare] = []
_SPARE_LOCK = threading.Lock()


def launch(request: p.Launch, out: Output) -> p.PlanReply:
    """Start the supervisor (or take the spare) and relay its lines until its result; raise
    when it failed."""
    proc = _take_spare() or _spawn(spare=False)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(p.encode(request)).encode())
    proc.stdin.close()
    return result(_relay(proc.stdout, out))


def prespawn() -> None:
    """Start a spare supervisor for this process' next ``launch`` (none when one waits)."""
    with _SPARE_LOCK:
        if not _SPARE:
            _SPARE.append(_Spare(_spawn(spare=True), _environ(), os.getcwd()))


def release_spare(wait: bool = True) -> None:
    """An unused spare exits (its stdin closes without a request); ``wait=False``: it is
    reaped in the background (it reads its stdin only once its imports are done)."""
    with _SPARE_LOCK:
        spares = _SPARE[:]
        _SPARE.clear()
    for spare in spares:
        if wait:
            _end(spare.proc)
        else:
            threading.Thread(target=_end, args=(spare.proc,), daemon=True).start()


def _take_spare() -> subprocess.Popen[bytes] | None:
    with _SPARE_LOCK:
        spare = _SPARE.pop() if _SPARE else None
    if spare is None:
        return None
    if spare.proc.poll() is None and spare.environ == _environ() and spare.cwd == os.getcwd():
        return spare.proc
    _end(spare.proc)  # it would run with another environment than the caller's now
    return None


def _environ() -> dict[str, str]:
    """This process' environment as a supervisor would inherit it; pytest's marker of the
    running test (set and cleared around each one) is no supervisor's business."""
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


def _end(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
    proc.wait()


def _spawn(spare: bool) -> subprocess.Popen[bytes]:
    """``python -m compose.supervisor`` in its own session (``--spare``: it imports what a
    request needs before it reads one)."""
    start_log().parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "compose.supervisor", *(["--spare"] if spare else [])]
    with open(start_log(), "ab") as log_file:
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            start_new_session=True,
            close_fds=True,
        )


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
