"""cgroup v2 device rules: a BPF_PROG_TYPE_CGROUP_DEVICE program (v2 has no devices files).

Same policy as the v1 allow-list (``cgroups.DEVICE_RULES``): creating any node (mknod) is allowed,
opening only null/zero/full/random/urandom/tty/console/ptmx/pts/tun. The program, per access::

    r2 = ctx->access_type; r3 = r2 & 0xffff (type); r4 = r2 >> 16 (access)
    r5 = ctx->major; r6 = ctx->minor
    if !(r4 & (READ|WRITE)) return 1                       ; mknod only
    for each rule: if r3 == type && r5 == major && r6 == minor return 1   (* skips a compare)
    return 0

It is attached with BPF_F_ALLOW_MULTI (every program up the tree must allow) and stays attached
until the cgroup is removed.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct

from compose.runtime import syscalls as sc

PROG_TYPE_CGROUP_DEVICE = 15
CGROUP_DEVICE = 6  # attach type
F_ALLOW_MULTI = 2
CMD_PROG_LOAD, CMD_PROG_ATTACH = 5, 8
DEV_CHAR = 2
ACC_READ_WRITE = 2 | 4
SYS_BPF = {"x86_64": 321, "aarch64": 280}

# (type, major, minor); -1 is a wildcard
ALLOWED = (
    (DEV_CHAR, 1, 3),
    (DEV_CHAR, 1, 5),
    (DEV_CHAR, 1, 7),
    (DEV_CHAR, 1, 8),
    (DEV_CHAR, 1, 9),
    (DEV_CHAR, 5, 0),
    (DEV_CHAR, 5, 1),
    (DEV_CHAR, 5, 2),
    (DEV_CHAR, 136, -1),
    (DEV_CHAR, 10, 200),
)


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def _ldx_w(dst: int, src: int, off: int) -> bytes:
    return _insn(0x61, dst, src, off)


def _ret(value: int) -> list[bytes]:
    return [_insn(0xB7, 0, imm=value), _insn(0x95)]  # mov r0, value; exit


def _rule(dev_type: int, major: int, minor: int) -> list[bytes]:
    checks = [(3, dev_type)] + [(reg, v) for reg, v in ((5, major), (6, minor)) if v >= 0]
    body = _ret(1)
    out = []
    for i, (reg, value) in enumerate(checks):
        skip = (len(checks) - 1 - i) + len(body)
        out.append(_insn(0x55, reg, off=skip, imm=value))  # jne reg, value, +skip
    return out + body


def program() -> bytes:
    prog = [
        _ldx_w(2, 1, 0),
        _insn(0xBF, 3, 2),
        _insn(0x57, 3, imm=0xFFFF),  # r3 = r2 & 0xffff
        _insn(0xBF, 4, 2),
        _insn(0x77, 4, imm=16),  # r4 = r2 >> 16
        _ldx_w(5, 1, 4),
        _ldx_w(6, 1, 8),
        _insn(0x45, 4, off=2, imm=ACC_READ_WRITE),  # jset r4, READ|WRITE, +2
        *_ret(1),
    ]
    for rule in ALLOWED:
        prog += _rule(*rule)
    return b"".join([*prog, *_ret(0)])


def _bpf(cmd: int, attr: ctypes.Array) -> int:  # type: ignore[type-arg]
    nr = SYS_BPF[platform.machine()]
    ret = sc._libc.syscall(ctypes.c_long(nr), ctypes.c_int(cmd), attr, ctypes.c_uint(len(attr)))
    return sc._check(ret)


def _load() -> int:
    code = program()
    insns = ctypes.create_string_buffer(code, len(code))
    license_ = ctypes.create_string_buffer(b"Apache-2.0")
    attr = ctypes.create_string_buffer(128)
    struct.pack_into(
        "<IIQQ",
        attr,
        0,
        PROG_TYPE_CGROUP_DEVICE,
        len(code) // 8,
        ctypes.addressof(insns),
        ctypes.addressof(license_),
    )
    return _bpf(CMD_PROG_LOAD, attr)


def attach(cgroup_dir: str) -> None:
    """Load the program and attach it to the cgroup v2 directory. Raises OSError."""
    prog = _load()
    target = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("<IIII", attr, 0, target, prog, CGROUP_DEVICE, F_ALLOW_MULTI)
        _bpf(CMD_PROG_ATTACH, attr)
    finally:
        os.close(target)
        os.close(prog)
