"""The compiled seccomp program, run through a classic-BPF interpreter (no kernel), against
Docker's default profile read as data (``tests.seccomp_reference``): every number, both
x86 ABIs, the capability variants and argument rules."""

from __future__ import annotations

import errno
import functools
import json

import pytest
from hypothesis import given, settings, strategies as st

from compose.runtime import seccomp
from compose.runtime.caps import effective_set
from compose.runtime.syscall_tables import table
from tests.seccomp_reference import AUDIT, as_result, expected, run_bpf, trace_bpf

DEFAULT = effective_set()
VARIANTS = {
    "default": DEFAULT,
    "sys_admin": effective_set(("SYS_ADMIN",)),
    "sys_ptrace": effective_set(("SYS_PTRACE",)),
    "sys_nice": effective_set(("SYS_NICE",)),
}


@functools.cache
def _prog(caps=DEFAULT, text: str = "", machine: str = "x86_64"):
    profile = seccomp.parse_profile(text or seccomp.default_profile_text(), machine)
    return seccomp.build_program(profile, machine, caps, kernel=(6, 18))


def _caps(caps) -> set[str]:
    return {f"CAP_{c}" for c in caps}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("arch", ["x86_64", "i386"])
def test_every_number_gets_what_dockers_profile_says(variant, arch):
    prog = _prog(VARIANTS[variant])
    for nr in range(0, max(table(arch).values()) + 64):
        got = as_result(run_bpf(prog, nr, AUDIT[arch]))
        assert got == expected(nr, arch=arch, caps=_caps(VARIANTS[variant])), (arch, nr)


def test_allow_list_semantics_at_a_glance():
    nr, prog = table("x86_64"), _prog()
    x86 = AUDIT["x86_64"]
    run = lambda name, *args: as_result(run_bpf(prog, nr[name], x86, args or (0,) * 6))  # noqa: E731
    assert run("read") == run("listmount") == run("clock_adjtime") == "allow"
    for name in ("mount", "unshare", "kcmp", "pidfd_getfd", "syslog", "mbind", "io_uring_setup"):
        assert run(name) == errno.EPERM, name  # the review's "Docker denies, pycompose allows"
    assert run("personality", 0x0040000) == errno.EPERM  # ADDR_NO_RANDOMIZE
    assert run("personality", 0xFFFFFFFF) == "allow"  # the query
    assert run("socket", 40) == errno.EPERM  # AF_VSOCK
    assert run("socket", 2) == "allow"
    assert run("clone", 0x10000000 | 17) == errno.EPERM  # CLONE_NEWUSER
    assert run("clone", 0x003D0F00) == "allow"  # a thread
    assert run("clone3") == errno.ENOSYS  # libc falls back to clone(2)
    assert as_result(run_bpf(prog, 467, x86)) == errno.ENOSYS  # newer than the profile
    assert as_result(run_bpf(prog, 100_000, x86)) == errno.ENOSYS
    assert as_result(run_bpf(prog, 0x40000000 | 1, x86)) == errno.ENOSYS  # x32 write
    assert as_result(run_bpf(prog, 1, 0xC00000F3)) == errno.ENOSYS  # an unknown arch


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["personality", "socket", "clone", "unshare", "clone3"]),
    arg0=st.one_of(st.integers(0, 1 << 64 - 1), st.sampled_from([0, 8, 38, 39, 40, 0x20000])),
    arg1=st.integers(0, (1 << 64) - 1),
    variant=st.sampled_from(sorted(VARIANTS)),
    arch=st.sampled_from(["x86_64", "i386"]),
)
def test_argument_rules_match_dockers(name, arg0, arg1, variant, arch):
    args = (arg0, arg1, 0, 0, 0, 0)
    if name not in table(arch):
        return
    prog = _prog(VARIANTS[variant])
    got = as_result(run_bpf(prog, table(arch)[name], AUDIT[arch], args))
    assert got == expected(table(arch)[name], arch=arch, caps=_caps(VARIANTS[variant]), args=args)


def test_aarch64_every_number():
    prog = _prog(machine="aarch64")
    for nr in range(0, 520):
        got = as_result(run_bpf(prog, nr, AUDIT["aarch64"]))
        assert got == expected(nr, arch="aarch64", native="aarch64", caps=_caps(DEFAULT)), nr


CUSTOM = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
        {
            "names": ["kill"],
            "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}],
        },
        {
            "names": ["prctl"],
            "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 0xF0, "valueTwo": 0x10, "op": "SCMP_CMP_MASKED_EQ"}],
        },
    ],
}


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(["mkdir", "mkdirat", "kill", "prctl", "read", "listns"]),
    args=st.tuples(*[st.integers(0, (1 << 64) - 1)] * 6),
)
def test_a_users_profile_a_deny_list_with_argument_rules(name, args):
    text = json.dumps(CUSTOM)
    got = as_result(run_bpf(_prog(text=text), table("x86_64")[name], AUDIT["x86_64"], args))
    want = expected(table("x86_64")[name], caps=_caps(DEFAULT), args=args, profile=CUSTOM)
    assert got == want
    if name in ("read", "listns"):  # the default, ALLOW: no ENOSYS tail in a deny-list
        assert got == "allow"


@pytest.mark.parametrize(
    "doc, why",
    [
        ("{", "not valid JSON"),
        ('{"defaultAction": "SCMP_ACT_NOPE"}', "unknown action"),
        ('{"defaultAction": "SCMP_ACT_NOTIFY"}', "SCMP_ACT_NOTIFY is not supported"),
        (
            '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], '
            '"action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "op": "SCMP_CMP_EQ"}]}]}',
            "argument index 9",
        ),
        ('{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["X"], "archMap": [{}]}', "both"),
    ],
)
def test_bad_profiles_say_what_is_wrong(doc, why):
    with pytest.raises(seccomp.SeccompProfileError, match=why):
        seccomp.parse_profile(doc, "x86_64")


def test_the_program_is_small_and_the_search_short():
    prog = _prog()
    assert len(prog) < 1200  # Docker's (libseccomp, linear) is ~970 for x86_64 + x86 + x32
    longest = max(trace_bpf(prog, nr, AUDIT["x86_64"])[1] for nr in range(480))
    assert longest < 40, longest  # a binary search, not one compare per system call
