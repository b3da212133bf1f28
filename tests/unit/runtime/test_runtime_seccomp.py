"""The default seccomp program, run through a tiny classic-BPF interpreter (no kernel needed)."""

from __future__ import annotations

import errno
import struct

import pytest

from compose.runtime import seccomp
from compose.runtime.seccomp import RET_ALLOW, RET_ERRNO, build_program

X86 = seccomp.ARCHES["x86_64"]
NR = seccomp.TABLES["x86_64"]


def run_bpf(prog, nr: int, arch: int = X86, arg0: int = 0) -> int:
    data = struct.pack("<iIQ6Q", nr, arch, 0, arg0, 0, 0, 0, 0, 0)
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        pc += 1
        if code == seccomp.BPF_LD_W_ABS:
            acc = struct.unpack_from("<I", data, k)[0]
        elif code == seccomp.BPF_RET_K:
            return k
        else:
            taken = {
                seccomp.BPF_JEQ_K: acc == k,
                seccomp.BPF_JGE_K: acc >= k,
                seccomp.BPF_JSET_K: bool(acc & k),
            }[code]
            pc += jt if taken else jf


EPERM = RET_ERRNO | errno.EPERM


@pytest.mark.parametrize(
    "name",
    [
        "mount",
        "umount2",
        "kexec_load",
        "init_module",
        "finit_module",
        "reboot",
        "swapon",
        "settimeofday",
        "clock_settime",
        "keyctl",
        "add_key",
        "request_key",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "open_by_handle_at",
    ],
)
def test_blocked(name):
    assert run_bpf(build_program("x86_64"), NR[name]) == EPERM


@pytest.mark.parametrize("nr", [0, 1, 2, 59, 57, 231])  # read write open execve fork exit_group
def test_ordinary_syscalls_pass(nr):
    assert run_bpf(build_program("x86_64"), nr) == RET_ALLOW


def test_user_namespaces_are_refused_other_clones_pass():
    prog = build_program("x86_64")
    assert run_bpf(prog, NR["unshare"], arg0=0x10000000) == EPERM
    assert run_bpf(prog, NR["clone"], arg0=0x10000000 | 17) == EPERM
    assert run_bpf(prog, NR["clone"], arg0=0x003D0F00) == RET_ALLOW  # a thread
    assert run_bpf(prog, NR["clone3"]) == RET_ERRNO | errno.ENOSYS


def test_foreign_arch_and_x32_are_refused():
    prog = build_program("x86_64")
    assert run_bpf(prog, 1, arch=0x40000003) == EPERM  # i386
    assert run_bpf(prog, 0x40000000 | 1) == EPERM  # x32 write


def test_sys_admin_keeps_the_mount_family():
    prog = build_program("x86_64", has_sys_admin=True)
    assert run_bpf(prog, NR["mount"]) == RET_ALLOW
    assert run_bpf(prog, NR["unshare"], arg0=0x10000000) == RET_ALLOW
    assert run_bpf(prog, NR["kexec_load"]) == EPERM


def test_aarch64_program_builds_with_valid_jumps():
    prog = build_program("aarch64")
    for i, (code, jt, jf, _k) in enumerate(prog):
        if code != seccomp.BPF_RET_K:
            assert i + 1 + max(jt, jf) < len(prog)
    assert prog[-1] == (seccomp.BPF_RET_K, 0, 0, RET_ALLOW)
