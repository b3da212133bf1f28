"""Linux capabilities: names, Docker's default set, and the set a container ends up with."""

from __future__ import annotations

from pathlib import Path

NAMES = (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
    "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO "
    "SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME "
    "SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG "
    "WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE"
).split()
NUMBERS = {name: i for i, name in enumerate(NAMES)}

# moby oci/caps/defaults.go
DOCKER_DEFAULT = frozenset(
    "CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP "
    "NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE".split()
)


class UnknownCapability(ValueError):
    pass


def last_cap(proc: Path = Path("/proc")) -> int:
    try:
        return int((proc / "sys/kernel/cap_last_cap").read_text())
    except OSError:
        return len(NAMES) - 1


def normalize(name: str) -> str:
    upper = name.strip().upper()
    upper = upper[4:] if upper.startswith("CAP_") else upper
    if upper != "ALL" and upper not in NUMBERS:
        raise UnknownCapability(f"unknown capability: {name!r}")
    return upper


def effective_set(
    cap_add: tuple[str, ...] = (), cap_drop: tuple[str, ...] = (), privileged: bool = False
) -> frozenset[str]:
    """Docker's rule: start from the default (or all when privileged), add, then drop."""
    every = frozenset(NAMES)
    adds = {normalize(c) for c in cap_add}
    drops = {normalize(c) for c in cap_drop}
    caps = set(every if privileged or "ALL" in adds else DOCKER_DEFAULT) | (adds - {"ALL"})
    if "ALL" in drops:
        caps = adds - {"ALL"}
    return frozenset(caps - drops)


def mask(caps: frozenset[str]) -> int:
    out = 0
    for name in caps:
        out |= 1 << NUMBERS[name]
    return out
