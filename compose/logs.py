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
from typing import BinaryIO

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
    text = "".join(_read(p) for p in [*rotated(path), path])
    lines = [ln for ln in (parse_line(source, raw) for raw in text.splitlines()) if ln]
    if since is not None:
        lines = [ln for ln in lines if (parse_time(ln.time) or 0) >= since]
    if tail is None or tail < 0:
        return lines
    return lines[len(lines) - tail :] if tail else []


def rotated(path: Path) -> list[Path]:
    """``<log>.N`` … ``<log>.1``, oldest first (``logging: max-size/max-file`` rotation)."""
    found = []
    for sibling in path.parent.glob(path.name + ".*"):
        suffix = sibling.name[len(path.name) + 1 :]
        if suffix.isdigit():
            found.append((int(suffix), sibling))
    return [p for _, p in sorted(found, reverse=True)]


def remove_log(path: Path) -> None:
    """A removed replica's log and its rotated files."""
    for old in [*rotated(path), path]:
        old.unlink(missing_ok=True)


def _read(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return text if not text or text.endswith("\n") else text + "\n"


class LogTail:
    """Non-blocking multi-file follower: ``poll()`` returns the lines written since last time.

    Each file stays open between polls, as ``tail -F`` does: what is appended to it after a
    rotation (renamed to ``<log>.1``) is still read, and a file replaced under its name
    (rotation, a replica recreated) is noticed reliably: the open file's inode can't be reused
    by the new one. A truncated file is read again from its start."""

    def __init__(self) -> None:
        self._files: dict[str, _Followed] = {}

    def add(self, source: str, path: Path, from_end: bool = False) -> None:
        if source in self._files:
            return
        offset = path.stat().st_size if from_end and path.exists() else 0
        self._files[source] = _Followed(path, offset)

    def discard(self, source: str) -> None:
        followed = self._files.pop(source, None)
        if followed is not None:
            followed.close()

    @property
    def sources(self) -> list[str]:
        return list(self._files)

    def poll(self) -> list[LogLine]:
        out: list[LogLine] = []
        for source, followed in list(self._files.items()):
            raw = followed.read_new()
            out += [ln for ln in (parse_line(source, line) for line in raw) if ln]
        return out


class _Followed:
    """One followed log file: its open handle, the offset read up to, a partial last line."""

    def __init__(self, path: Path, offset: int) -> None:
        self.path, self.offset, self.partial = path, offset, ""
        self.handle: BinaryIO | None = None

    def read_new(self) -> list[str]:
        """Complete lines written since the last call, across a replacement of the file."""
        lines = self._drain()
        if self._replaced():
            self.close()
            self.offset, self.partial = 0, ""
            lines += self._drain()
        return lines

    def _drain(self) -> list[str]:
        if self.handle is None and not self._open():
            return []
        assert self.handle is not None  # _open() set it
        if os.fstat(self.handle.fileno()).st_size < self.offset:  # truncated
            self.offset, self.partial = 0, ""
        self.handle.seek(self.offset)
        chunk = self.handle.read()
        if not chunk:
            return []
        self.offset += len(chunk)
        *complete, self.partial = (self.partial + chunk.decode(errors="replace")).split("\n")
        return complete

    def _open(self) -> bool:
        try:
            self.handle = open(self.path, "rb")  # kept open across polls
        except FileNotFoundError:
            return False
        return True

    def _replaced(self) -> bool:
        if self.handle is None:
            return False
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return False  # removed: keep what we hold until it is replaced
        held = os.fstat(self.handle.fileno())
        return (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


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
