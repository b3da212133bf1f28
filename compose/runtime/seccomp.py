"""A default seccomp filter (classic BPF, installed with prctl) modelled on Docker's profile.

Docker's profile is an allow-list; ours is the equivalent deny-list of what it refuses to an
unprivileged container, which keeps the program short (one compare per syscall):

    ld  arch           ; a foreign arch (32-bit / x32 entry) is refused with EPERM
    jeq AUDIT_ARCH      else → ERRNO(EPERM)
    ld  nr
    jge 0x40000000     → ERRNO(EPERM)          ; x32 ABI numbers
    jeq <blocked nr>   → ERRNO(EPERM)          ; one per blocked syscall
    jeq clone3         → ERRNO(ENOSYS)         ; libc falls back to clone(2), which we can check
    jeq clone/unshare  → ld args[0]; jset CLONE_NEWUSER → ERRNO(EPERM)
    ret ALLOW

A container holding CAP_SYS_ADMIN (cap_add) keeps the mount/namespace family, as Docker does;
``privileged`` containers get no filter at all.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import platform
import struct

from compose.runtime import syscalls

BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_JSET_K = 0x45
BPF_RET_K = 0x06
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000

ARCHES = {
    "x86_64": 0xC000003E,  # AUDIT_ARCH_X86_64
    "aarch64": 0xC00000B7,  # AUDIT_ARCH_AARCH64
}

_X86_64 = {
    "kexec_load": 246,
    "kexec_file_load": 320,
    "init_module": 175,
    "finit_module": 313,
    "delete_module": 176,
    "create_module": 174,
    "get_kernel_syms": 177,
    "query_module": 178,
    "reboot": 169,
    "swapon": 167,
    "swapoff": 168,
    "settimeofday": 164,
    "clock_settime": 227,
    "clock_adjtime": 305,
    "keyctl": 250,
    "add_key": 248,
    "request_key": 249,
    "bpf": 321,
    "perf_event_open": 298,
    "userfaultfd": 323,
    "open_by_handle_at": 304,
    "acct": 163,
    "iopl": 172,
    "ioperm": 173,
    "lookup_dcookie": 212,
    "nfsservctl": 180,
    "quotactl": 179,
    "_sysctl": 156,
    "uselib": 134,
    "ustat": 136,
    "sysfs": 139,
    "vhangup": 153,
    "mount": 165,
    "umount2": 166,
    "pivot_root": 155,
    "setns": 308,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "move_mount": 429,
    "open_tree": 428,
    "mount_setattr": 442,
    "clone": 56,
    "unshare": 272,
    "clone3": 435,
}
_AARCH64 = {
    "kexec_load": 104,
    "kexec_file_load": 294,
    "init_module": 105,
    "finit_module": 273,
    "delete_module": 106,
    "reboot": 142,
    "swapon": 224,
    "swapoff": 225,
    "settimeofday": 170,
    "clock_settime": 112,
    "clock_adjtime": 266,
    "keyctl": 219,
    "add_key": 217,
    "request_key": 218,
    "bpf": 280,
    "perf_event_open": 241,
    "userfaultfd": 282,
    "open_by_handle_at": 265,
    "acct": 89,
    "lookup_dcookie": 18,
    "nfsservctl": 42,
    "quotactl": 60,
    "vhangup": 58,
    "mount": 40,
    "umount2": 39,
    "pivot_root": 41,
    "setns": 268,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "move_mount": 429,
    "open_tree": 428,
    "mount_setattr": 442,
    "clone": 220,
    "unshare": 97,
    "clone3": 435,
}
TABLES = {"x86_64": _X86_64, "aarch64": _AARCH64}

ALWAYS_BLOCKED = (
    "kexec_load kexec_file_load init_module finit_module delete_module create_module "
    "get_kernel_syms query_module reboot swapon swapoff settimeofday clock_settime clock_adjtime "
    "keyctl add_key request_key bpf perf_event_open userfaultfd open_by_handle_at acct iopl ioperm "
    "lookup_dcookie nfsservctl quotactl _sysctl uselib ustat sysfs vhangup"
).split()
SYS_ADMIN_ONLY = (
    "mount umount2 pivot_root setns fsopen fsconfig fsmount fspick move_mount open_tree "
    "mount_setattr"
).split()


def _stmt(code: int, k: int, jt: int = 0, jf: int = 0) -> tuple[int, int, int, int]:
    return (code, jt, jf, k)


def blocked_syscalls(has_sys_admin: bool) -> list[str]:
    return ALWAYS_BLOCKED + ([] if has_sys_admin else SYS_ADMIN_ONLY)


def build_program(machine: str, has_sys_admin: bool = False) -> list[tuple[int, int, int, int]]:
    table = TABLES[machine]
    eperm, enosys = RET_ERRNO | errno.EPERM, RET_ERRNO | errno.ENOSYS
    prog = [
        _stmt(BPF_LD_W_ABS, 4),
        _stmt(BPF_JEQ_K, ARCHES[machine], 1, 0),
        _stmt(BPF_RET_K, eperm),
        _stmt(BPF_LD_W_ABS, 0),
    ]
    if machine == "x86_64":
        prog += [_stmt(BPF_JGE_K, 0x40000000, 0, 1), _stmt(BPF_RET_K, eperm)]
    for name in blocked_syscalls(has_sys_admin):
        if name in table:
            prog += [_stmt(BPF_JEQ_K, table[name], 0, 1), _stmt(BPF_RET_K, eperm)]
    prog += [_stmt(BPF_JEQ_K, table["clone3"], 0, 1), _stmt(BPF_RET_K, enosys)]
    if not has_sys_admin:
        for name in ("clone", "unshare"):
            prog += [
                _stmt(BPF_JEQ_K, table[name], 0, 4),
                _stmt(BPF_LD_W_ABS, 16),  # args[0], low 32 bits (little endian)
                _stmt(BPF_JSET_K, syscalls.CLONE_NEWUSER, 0, 1),
                _stmt(BPF_RET_K, eperm),
                _stmt(BPF_RET_K, RET_ALLOW),
            ]
    return [*prog, _stmt(BPF_RET_K, RET_ALLOW)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@functools.cache
def program_bytes(machine: str, has_sys_admin: bool) -> bytes:
    """The packed ``struct sock_filter`` array (cached: the zygote builds it once)."""
    return b"".join(struct.pack("HBBI", *ins) for ins in build_program(machine, has_sys_admin))


def install(has_sys_admin: bool = False) -> bool:
    """Install the filter on the calling thread; False when the architecture is not known."""
    machine = platform.machine()
    if machine not in TABLES:
        return False
    raw = program_bytes(machine, has_sys_admin)
    buf = ctypes.create_string_buffer(raw, len(raw))
    fprog = _SockFprog(len(raw) // 8, ctypes.addressof(buf))
    syscalls.prctl_ptr(syscalls.PR_SET_SECCOMP, syscalls.SECCOMP_MODE_FILTER, ctypes.byref(fprog))
    return True
