"""Process identity from /proc: pid + start time (field 22 of /proc/<pid>/stat, clock ticks)."""

from __future__ import annotations


def proc_start_time(pid: int) -> int | None:
    """None when the pid is gone or a zombie (it has exited; only its parent can reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def is_alive(pid: int, start_time: int | None) -> bool:
    found = proc_start_time(pid) if pid > 0 else None
    return found is not None and (start_time is None or found == start_time)
