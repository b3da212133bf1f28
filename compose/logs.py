"""Replica logs: the runtime writes one JSON-lines file per replica (Docker's json-file format:
``{"log": "text\\n", "stream": "stdout", "time": "2026-01-01T00:00:00.000000000Z"}``).

``LogTail`` reads new lines from many files without blocking (offset per file), so foreground
``up`` and ``logs -f`` multiplex every replica with ``service-N |`` prefixes. A half-written last
line is kept for the next poll.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

COLORS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")


@dataclass(frozen=True, slots=True)
class LogLine:
    source: str  # "service-N"
    text: str
    stream: str = "stdout"
    time: str = ""


def parse_line(source: str, raw: str) -> LogLine | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:
        return LogLine(source, raw)
    text = str(doc.get("log", "")).rstrip("\n")
    return LogLine(source, text, str(doc.get("stream", "stdout")), str(doc.get("time", "")))


def parse_time(stamp: str) -> float | None:
    if not stamp:
        return None
    head, _, frac = stamp.rstrip("Z").partition(".")
    try:
        base = datetime.fromisoformat(head + "+00:00").timestamp()
    except ValueError:
        return None
    return base + float(f"0.{frac[:6] or 0}")


_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_since(text: str, now: float) -> float:
    """``--since``/``--until`` as docker reads them: a Unix timestamp (``1700000000.5``), a Go
    duration before now (``42m``, ``1h30m``, ``500ms``), or an RFC 3339 date/time
    (``2026-01-02``, ``2026-01-02T13:23:37Z``, with an offset or fraction). ValueError else."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if re.fullmatch(f"(?:{_GO_DURATION.pattern})+", text):
        return now - sum(float(n) * _GO_UNITS[u] for n, u in _GO_DURATION.findall(text))
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r}: expected a Unix timestamp, a duration (10m, 1h30m) or a date/time "
            "(2026-01-02T15:04:05Z)"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)  # docker reads a date/time without zone as UTC
    return stamp.timestamp()


def read_all(
    source: str, path: Path, tail: int | None = None, since: float | None = None
) -> list[LogLine]:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    lines = [ln for ln in (parse_line(source, raw) for raw in text.splitlines()) if ln]
    if since is not None:
        lines = [ln for ln in lines if (parse_time(ln.time) or 0) >= since]
    if tail is None or tail < 0:
        return lines
    return lines[len(lines) - tail :] if tail else []


class LogTail:
    """Non-blocking multi-file follower: ``poll()`` returns the lines written since last time."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[Path, int, str]] = {}
        self._inodes: dict[str, int] = {}  # a file replaced under its name is read anew

    def add(self, source: str, path: Path, from_end: bool = False) -> None:
        if source in self._files:
            return
        offset = path.stat().st_size if from_end and path.exists() else 0
        self._files[source] = (path, offset, "")

    def discard(self, source: str) -> None:
        self._files.pop(source, None)
        self._inodes.pop(source, None)

    @property
    def sources(self) -> list[str]:
        return list(self._files)

    def poll(self) -> list[LogLine]:
        out: list[LogLine] = []
        for source, (path, offset, partial) in list(self._files.items()):
            inode, start, chunk = _read_from(path, offset, self._inodes.get(source))
            if inode is not None:
                self._inodes[source] = inode
            if start != offset:  # replaced (a replica recreated under its name) or truncated
                offset, partial = start, ""
                self._files[source] = (path, offset, partial)
            if not chunk:
                continue
            data = partial + chunk.decode(errors="replace")
            *complete, rest = data.split("\n")
            self._files[source] = (path, offset + len(chunk), rest)
            out += [ln for ln in (parse_line(source, raw) for raw in complete) if ln]
        return out


def _read_from(path: Path, offset: int, inode: int | None) -> tuple[int | None, int, bytes]:
    """(the file's inode, the offset read from, the bytes after it): from 0 again when the file
    is another one than last time (another inode) or shorter than ``offset``."""
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            if stat.st_size < offset or inode not in (None, stat.st_ino):
                offset = 0
            if stat.st_size <= offset:
                return stat.st_ino, offset, b""
            handle.seek(offset)
            return stat.st_ino, offset, handle.read(stat.st_size - offset)
    except FileNotFoundError:
        return inode, offset, b""


class Formatter:
    """``web-1  | text`` with a stable color per source, padded to the widest source."""

    def __init__(
        self,
        sources: Iterable[str] = (),
        color: bool = True,
        prefix: bool = True,
        timestamps: bool = False,
    ) -> None:
        self.color, self.prefix, self.timestamps = color, prefix, timestamps
        self._colors: dict[str, str] = {}
        self.width = max((len(s) for s in sources), default=0)

    def status(self, source: str, text: str) -> str:
        """Docker's ``web-1 exited with code 0``: the source in its color, no bar."""
        return self._paint(source, f"{source} {text}")

    def _paint(self, source: str, text: str) -> str:
        if not self.color:
            return text
        code = self._colors.setdefault(source, COLORS[len(self._colors) % len(COLORS)])
        return f"\x1b[{code}m{text}\x1b[0m"

    def format(self, line: LogLine) -> str:
        body = f"{line.time} {line.text}" if self.timestamps and line.time else line.text
        if not self.prefix:
            return body
        self.width = max(self.width, len(line.source))
        head = self._paint(line.source, f"{line.source:<{self.width}}  |")
        return f"{head} {body}"
