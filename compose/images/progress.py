"""Pull progress reporting. The library calls a ``PullProgress``; the CLI picks one:
rich bars on a TTY (``RichProgress``), plain lines otherwise (``LineProgress``)."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO


class PullProgress:
    """No-op base; methods may be called from several threads."""

    def image_start(self, ref: str) -> None: ...
    def image_done(self, ref: str, digest: str) -> None: ...
    def layer_start(self, digest: str, total: int) -> None: ...
    def layer_advance(self, digest: str, n: int) -> None: ...
    def layer_done(self, digest: str, status: str) -> None: ...
    def close(self) -> None: ...

    def for_image(self, ref: str) -> PullProgress:
        """A reporter for one image of several pulled at once (default: this one)."""
        return self


NullProgress = PullProgress


def _short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


class LineProgress(PullProgress):
    """Docker-like plain lines: ``redis:7 3f215c326e69: Pull complete``."""

    _lock = threading.Lock()

    def __init__(self, out: TextIO | None = None, ref: str = "") -> None:
        self.out = out or sys.stderr
        self._ref = ref

    def for_image(self, ref: str) -> PullProgress:
        return LineProgress(self.out, ref)

    def _say(self, text: str) -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def image_start(self, ref: str) -> None:
        self._ref = ref
        self._say(f"{ref}: Pulling")

    def layer_start(self, digest: str, total: int) -> None:
        self._say(f"{self._ref} {_short(digest)}: Downloading {total / 1e6:.1f}MB")

    def layer_done(self, digest: str, status: str) -> None:
        self._say(f"{self._ref} {_short(digest)}: {status[:1].upper()}{status[1:]}")

    def image_done(self, ref: str, digest: str) -> None:
        self._say(f"{ref}: Pulled (digest {digest})")


class RichProgress(PullProgress):
    """One rich progress bar per layer; ``for_image`` gives per-image reporters."""

    def __init__(self, ref: str = "", bars: Any = None) -> None:
        if bars is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TransferSpeedColumn,
            )

            bars = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                transient=False,
            )
            bars.start()
        self._bars = bars
        self._tasks: dict[str, Any] = {}
        self._ref = ref

    def for_image(self, ref: str) -> PullProgress:
        return RichProgress(ref, self._bars)

    def image_start(self, ref: str) -> None:
        self._ref = ref

    def layer_start(self, digest: str, total: int) -> None:
        self._tasks[digest] = self._bars.add_task(f"{self._ref} {_short(digest)}", total=total)

    def layer_advance(self, digest: str, n: int) -> None:
        if digest in self._tasks:
            self._bars.advance(self._tasks[digest], n)

    def layer_done(self, digest: str, status: str) -> None:
        text = f"{self._ref} {_short(digest)} {status}"
        if digest in self._tasks:
            self._bars.update(self._tasks[digest], description=text)
        else:
            self._tasks[digest] = self._bars.add_task(text, total=1, completed=1)

    def image_done(self, ref: str, digest: str) -> None:
        self._bars.console.print(f"{ref}: pulled {digest}")

    def close(self) -> None:
        self._bars.stop()


def for_terminal(quiet: bool = False) -> PullProgress:
    if quiet:
        return PullProgress()
    return RichProgress() if sys.stderr.isatty() else LineProgress()
