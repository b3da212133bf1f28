"""Process identity from /proc: a pid is only "ours" if its start time matches the record.

The one place that reads /proc/<pid>/stat: the state's liveness checks (``observe``), the
runtime (its handles, the monitor, exec) and the CLI all ask here; and /proc/<pid>/net/tcp*,
for the TCP ports a container listens on. A leaf: stdlib only, so the zygote and
``pycompose ps`` import it for free.
"""

from __future__ import annotations

from pathlib import Path


def process_start_time(pid: int, proc: Path = Path("/proc")) -> int | None:
    """Start time in clock ticks since boot (field 22 of /proc/<pid>/stat); None when the pid
    is gone, or exited and not yet reaped (zombie ``Z``, dead ``X``: only its parent can reap
    it, and it will never run again)."""
    try:
        with open(proc / str(pid) / "stat") as handle:
            raw = handle.read()
    except OSError:
        return None
    # comm (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    if not fields or fields[0] in ("Z", "X"):
        return None
    return int(fields[19]) if len(fields) > 19 else None


def is_alive(pid: int | None, start_time: int | None, proc: Path = Path("/proc")) -> bool:
    """The process runs and is the one recorded (``start_time`` None: any process)."""
    if not pid or pid <= 0:
        return False
    current = process_start_time(pid, proc)
    return current is not None and (start_time is None or current == start_time)


_LISTEN = "0A"
_LOOPBACK6 = "00000000000000000000000001000000"  # ::1 as /proc shows it


def listening_ports(pid: int, proc: Path = Path("/proc")) -> set[int]:
    """TCP ports listened on in the network namespace of ``pid`` (IPv4 and IPv6), other than
    on loopback only (nothing outside the namespace reaches those)."""
    ports = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc / str(pid) / "net" / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == _LISTEN:
                address, _, port = fields[1].partition(":")
                loopback = address.endswith("7F") if len(address) == 8 else address == _LOOPBACK6
                if not loopback:  # 127.0.0.0/8 is stored little-endian: ...7F
                    ports.add(int(port, 16))
    return ports
