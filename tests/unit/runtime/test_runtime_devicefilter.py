"""The cgroup v2 device program, run through a small eBPF interpreter (no kernel needed)."""

from __future__ import annotations

import struct

import pytest

from compose.runtime import devicefilter

MKNOD, READ, WRITE = 1, 2, 4
BLOCK, CHAR = 1, 2


def run(access: int, dev_type: int, major: int, minor: int) -> int:
    code = devicefilter.program()
    ctx = {0: (access << 16) | dev_type, 4: major, 8: minor}
    regs = [0] * 11
    pc = 0
    while True:
        op, regbyte, off, imm = struct.unpack_from("<BBhi", code, pc * 8)
        dst, src = regbyte & 0xF, regbyte >> 4
        pc += 1
        if op == 0x61:
            regs[dst] = ctx[off]
        elif op == 0xBF:
            regs[dst] = regs[src]
        elif op == 0xB7:
            regs[dst] = imm
        elif op == 0x57:
            regs[dst] &= imm
        elif op == 0x77:
            regs[dst] >>= imm
        elif op == 0x45:
            pc += off if regs[dst] & imm else 0
        elif op == 0x55:
            pc += off if regs[dst] != imm else 0
        elif op == 0x95:
            return regs[0]
        else:
            raise AssertionError(f"unexpected opcode {op:#x}")


@pytest.mark.parametrize(
    ("major", "minor"),
    [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (136, 0), (136, 7), (10, 200)],
)
def test_standard_char_devices_open(major, minor):
    assert run(READ | WRITE, CHAR, major, minor) == 1


@pytest.mark.parametrize(
    ("dev_type", "major", "minor"),
    [(BLOCK, 8, 0), (CHAR, 1, 1), (CHAR, 4, 1), (CHAR, 10, 229), (BLOCK, 1, 3), (CHAR, 137, 0)],
)
def test_everything_else_is_refused(dev_type, major, minor):
    assert run(READ, dev_type, major, minor) == 0
    assert run(WRITE, dev_type, major, minor) == 0


def test_mknod_of_anything_is_allowed():
    assert run(MKNOD, BLOCK, 8, 0) == 1
    assert run(MKNOD | READ, BLOCK, 8, 0) == 0
