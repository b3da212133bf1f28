"""Process liveness from /proc: a pid is only "ours" if its start time matches the record."""

from __future__ import annotations

from pathlib import Path


def process_start_time(pid: int, proc: Path = Path("/proc")) -> int | None:
    """Start time in clock ticks since boot (field 22 of /proc/<pid>/stat), None if gone."""
    try:
        raw = (proc / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    if fields and fields[0] == "Z":  # a zombie has exited; only its parent can reap it
        return None
    return int(fields[19]) if len(fields) > 19 else None


def is_alive(pid: int | None, start_time: int | None, proc: Path = Path("/proc")) -> bool:
    if not pid or pid <= 0:
        return False
    current = process_start_time(pid, proc)
    if current is None:
        return False
    return start_time is None or current == start_time
