"""Build progress as BuildKit prints it.

``plain`` (not a terminal, ``--progress plain``)::

    #5 [web 2/5] RUN pip install -r requirements.txt
    #5 0.512 Collecting flask
    #5 DONE 3.2s
    #6 [web 3/5] COPY . /app
    #6 CACHED

``tty``: a header ``[+] Building 12.3s (8/10)`` and one line per step
(`` => [web 2/5] RUN ...   3.2s``, `` => CACHED [web 3/5] ...``) redrawn in place, with the
last lines of each running step's output below it (`` => => # ...``); ``FINISHED`` at the end.
``quiet``: nothing. Thread-safe: stages build in parallel.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from typing import TextIO

from msgspec import Struct, field

TTY_LOG_LINES = 6


class Vertex(Struct):
    number: int
    name: str
    progress: Progress
    started: float = 0.0
    ended: float = 0.0
    state: str = "new"  # new | running | cached | done | error
    logs: deque[str] = field(default_factory=lambda: deque(maxlen=TTY_LOG_LINES))

    def start(self) -> Vertex:
        self.started = time.monotonic()
        self.state = "running"
        self.progress.changed(self, "start")
        return self

    def cached(self) -> None:
        self.state = "cached"
        self.ended = time.monotonic()
        self.progress.changed(self, "cached")

    def done(self) -> None:
        self.state = "done"
        self.ended = time.monotonic()
        self.progress.changed(self, "done")

    def fail(self, message: str) -> None:
        self.state = "error"
        self.ended = time.monotonic()
        self.progress.changed(self, "error", message)

    def log(self, line: str) -> None:
        self.logs.append(line)
        self.progress.changed(self, "log", line)

    @property
    def seconds(self) -> float:
        end = self.ended or time.monotonic()
        return max(0.0, end - self.started) if self.started else 0.0


class Progress:
    """Base: counts vertices, prints nothing (``quiet``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.vertices: list[Vertex] = []
        self.begun = time.monotonic()

    def vertex(self, name: str) -> Vertex:
        with self.lock:
            v = Vertex(len(self.vertices) + 1, name, self)
            self.vertices.append(v)
        return v

    def changed(self, v: Vertex, event: str, text: str = "") -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class PlainProgress(Progress):
    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__()
        self.out = out or sys.stderr

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def changed(self, v: Vertex, event: str, text: str = "") -> None:
        with self.lock:
            if event == "start":
                self._write(f"#{v.number} {v.name}")
            elif event == "cached":
                self._write(f"#{v.number} {v.name}\n#{v.number} CACHED")
            elif event == "log":
                self._write(f"#{v.number} {v.seconds:.3f} {text}")
            elif event == "done":
                self._write(f"#{v.number} DONE {v.seconds:.1f}s")
            elif event == "error":
                self._write(f"#{v.number} ERROR: {text}")

    def message(self, text: str) -> None:
        with self.lock:
            self._write(text)


class TtyProgress(Progress):
    """Redraws the step list in place (a few times a second), BuildKit's tty display."""

    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__()
        self.out = out or sys.stderr
        self.lines_drawn = 0
        self.last_draw = 0.0
        self.finished = False
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        """Redraw twice a second so running steps' timers move without output."""
        while not self.finished:
            time.sleep(0.5)
            with self.lock:
                if any(v.state == "running" for v in self.vertices) and not self.finished:
                    self._draw(time.monotonic())

    def changed(self, v: Vertex, event: str, text: str = "") -> None:
        with self.lock:
            now = time.monotonic()
            if event == "log" and now - self.last_draw < 0.1:
                return
            self._draw(now)

    def message(self, text: str) -> None:
        with self.lock:
            self._clear()
            self.out.write(text + "\n")
            self.lines_drawn = 0
            self._draw(time.monotonic())

    def _clear(self) -> None:
        if self.lines_drawn:
            self.out.write(f"\x1b[{self.lines_drawn}F\x1b[J")

    def _draw(self, now: float) -> None:
        width = _columns()
        done = sum(1 for v in self.vertices if v.state in ("done", "cached"))
        state = "FINISHED" if self.finished else ""
        head = f"[+] Building {now - self.begun:.1f}s ({done}/{len(self.vertices)}) {state}"
        lines = [head.rstrip()]
        for v in self.vertices:
            lines += _vertex_lines(v, width)
        self._clear()
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        self.lines_drawn = len(lines)
        self.last_draw = now

    def close(self) -> None:
        with self.lock:
            self.finished = True
            self._draw(time.monotonic())


def _vertex_lines(v: Vertex, width: int) -> list[str]:
    prefix = {"cached": " => CACHED ", "error": " => ERROR "}.get(v.state, " => ")
    timing = f"{v.seconds:.1f}s" if v.state in ("running", "done", "error") else ""
    name = v.name
    room = width - len(prefix) - len(timing) - 2
    if len(name) > room > 3:
        name = name[: room - 3] + "..."
    line = f"{prefix}{name}".ljust(max(width - len(timing) - 1, 0)) + timing
    out = [line.rstrip()]
    if v.state == "running":
        out += [f" => => # {text}"[:width] for text in v.logs]
    return out


def _columns() -> int:
    try:
        return max(40, os.get_terminal_size(2).columns)
    except OSError:
        return 100


def for_mode(mode: str, stream: TextIO | None = None) -> Progress:
    """``auto`` = tty on a terminal (stderr), plain otherwise; ``quiet`` prints nothing."""
    out = stream or sys.stderr
    if mode == "auto":
        env = os.environ.get("BUILDKIT_PROGRESS") or os.environ.get("COMPOSE_PROGRESS") or ""
        mode = env if env in ("tty", "plain", "quiet") else ("tty" if out.isatty() else "plain")
    if mode == "quiet":
        return Progress()
    if mode == "tty":
        return TtyProgress(out)
    return PlainProgress(out)
