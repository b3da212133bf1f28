"""How a command shows its steps (``compose.progress.Step``): the global ``--progress``.

    plain   `` Container web-1  Creating`` … `` Container web-1  Created``, one line per step
    tty     a live view redrawn in place: ``[+] Running 2/3`` and a line per object with its
            state, a spinner while it works and a timer, as docker compose draws it (rich)
    json    one JSON object per step: ``{"id": "Container web-1", "status": "Created"}``
    quiet   nothing (errors still go to stderr)
    auto    tty on a terminal (unless ``--ansi never``), plain otherwise

One renderer per CLI run (``for_run``), shared by every output of the command and closed when
the command ends. rich loads only for the live view.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from compose.progress import Step

MODES = ("auto", "tty", "plain", "json", "quiet")
ANSI = ("never", "always", "auto")
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Renderer(Protocol):
    def step(self, step: Step) -> None: ...

    def message(self, text: str) -> None:
        """A line outside the steps (``Gracefully Stopping...``, a warning)."""
        ...

    def pause(self) -> None:
        """Other output follows (replica logs): a live view ends here; the next step starts
        a new one."""
        ...

    def close(self) -> None: ...


def resolve(mode: str, ansi: str, stream: TextIO) -> str:
    """The concrete mode: ``auto`` is ``tty`` on a terminal with ANSI allowed."""
    if mode != "auto":
        return mode
    return "tty" if ansi != "never" and stream.isatty() else "plain"


def make(mode: str, ansi: str = "auto", stream: TextIO | None = None) -> Renderer:
    out = stream or sys.stderr
    concrete = resolve(mode, ansi, out)
    if concrete == "tty":
        return LiveView(out, color=ansi != "never")
    if concrete == "json":
        return JsonLines(out)
    if concrete == "quiet":
        return Quiet()
    return PlainLines(out)


class PlainLines:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def step(self, step: Step) -> None:
        self._write(f" {step.line()}")

    def message(self, text: str) -> None:
        self._write(text)

    def pause(self) -> None:
        pass

    def close(self) -> None:
        pass

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


class JsonLines(PlainLines):
    """docker compose's ``--progress json``: ``{"id": ..., "status": ...}`` per step."""

    def step(self, step: Step) -> None:
        doc: dict[str, Any] = {"id": step.id, "status": step.status}
        if step.text:
            doc["text"] = step.text
        if step.error:
            doc["error"] = True
        self._write(json.dumps(doc, separators=(",", ":")))

    def message(self, text: str) -> None:
        self._write(json.dumps({"text": text}, separators=(",", ":")))


class Quiet(PlainLines):
    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def step(self, step: Step) -> None:
        pass

    def message(self, text: str) -> None:
        pass


@dataclass
class _Row:
    step: Step
    started: float
    ended: float | None = None


class LiveView:
    """The steps redrawn in place, a line per object (``✔ Container web-1  Started  0.4s``)."""

    def __init__(self, out: TextIO, color: bool = True) -> None:
        self.out = out
        self.color = color
        self.rows: dict[str, _Row] = {}
        self.live: Any = None

    def step(self, step: Step) -> None:
        now = time.monotonic()
        row = self.rows.get(step.id)
        if row is None or (row.ended is not None and not step.done):
            row = self.rows[step.id] = _Row(step, now if row is None else row.started)
        row.step = step
        row.ended = now if step.done or step.error else None
        self._live().update(self.render())

    def message(self, text: str) -> None:
        if self.live is not None:
            self.live.console.print(text, highlight=False, markup=False)
        else:
            self.out.write(text + "\n")
            self.out.flush()

    def pause(self) -> None:
        if self.live is not None:
            self.live.update(self.render())
            self.live.stop()
            self.live = None
        self.rows.clear()

    close = pause

    def _live(self) -> Any:
        if self.live is None:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.out, no_color=not self.color, highlight=False)
            self.live = Live(console=console, get_renderable=self.render, refresh_per_second=10)
            self.live.start()
        return self.live

    def render(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        done = sum(1 for r in self.rows.values() if r.ended is not None)
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=2, justify="right")
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, ratio=1)
        grid.add_column(justify="right", no_wrap=True, style="blue")
        now = time.monotonic()
        for row in self.rows.values():
            grid.add_row(*self._cells(row, now, Text))
        header = Text.assemble(("[+] ", "blue"), f"Running {done}/{len(self.rows)}")
        outer = Table.grid()
        outer.add_row(header)
        outer.add_row(grid)
        return outer

    @staticmethod
    def _cells(row: _Row, now: float, text: Any) -> tuple[Any, ...]:
        step = row.step
        if step.error:
            icon = text("✘", style="red")
        elif row.ended is not None:
            icon = text("✔", style="green")
        else:
            icon = text(SPINNER[int(now * 10) % len(SPINNER)], style="blue")
        status = f"{step.status} {step.text}".strip()
        style = "red" if step.error else ("green" if row.ended is not None else "")
        elapsed = (row.ended or now) - row.started
        return icon, text(step.id), text(status, style=style), text(f"{elapsed:.1f}s")


def for_run(mode: str, ansi: str) -> Renderer:
    """The renderer of this CLI run: one, shared, closed when the command ends."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return make(mode, ansi)
    root = ctx.find_root()
    found: Renderer | None = root.meta.get("pycompose.progress")
    if found is None:
        found = root.meta["pycompose.progress"] = make(mode, ansi)
        root.call_on_close(found.close)
    return found
