"""Seccomp: Docker's default profile (an allow-list, ``seccomp_default.json``) or a Docker-format
profile of the user's (``security_opt: seccomp=<file>``), compiled to classic BPF here.

The semantics are Docker's (moby ``profiles/seccomp``, runc, libseccomp):

- rules apply by the container's capabilities (``includes``/``excludes`` ``caps``: the
  effective set), by the native architecture (``arches``) and the kernel (``minKernel``);
- the filter covers the native architecture and its ``archMap`` sub-architectures it has a
  table for (``syscall_tables``: x86_64 + i386, aarch64); x32 system calls and any other
  architecture get ENOSYS;
- a system call the profile does not name gets the default action (Docker's: EPERM), except
  that numbers above the highest one the profile names for that architecture get ENOSYS (runc's
  rule: a program probing a newer system call than the profile knows falls back cleanly);
- several rules for one system call: the conditional ones in profile order (the first whose
  ``args`` all hold decides), then an unconditional one, else the default action. ``args``
  compare the full 64-bit argument (the low 32 bits on i386), ``SCMP_CMP_MASKED_EQ`` takes
  ``value`` as the mask and ``valueTwo`` as the datum, as libseccomp does.

The program: check the architecture, ENOSYS above the highest known number, then a binary
search over ranges of numbers with the same verdict (~10 compares, not one per system call),
whose leaves return or check the arguments. ``privileged`` and ``seccomp=unconfined``
containers get none.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import json
import os
import platform
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from msgspec import Struct

from compose.runtime import syscall_tables, syscalls

PROFILE_FILE = Path(__file__).with_name("seccomp_default.json")

BPF_LD_W_ABS = 0x20
BPF_ALU_AND_K = 0x54
BPF_JA = 0x05
BPF_JEQ_K = 0x15
BPF_JGT_K = 0x25
BPF_JGE_K = 0x35
BPF_RET_K = 0x06
BPF_MAXINSNS = 4096

RET_KILL_PROCESS = 0x80000000
RET_KILL_THREAD = 0x00000000
RET_TRAP = 0x00030000
RET_ERRNO = 0x00050000
RET_TRACE = 0x7FF00000
RET_LOG = 0x7FFC0000
RET_ALLOW = 0x7FFF0000
RET_ENOSYS = RET_ERRNO | errno.ENOSYS
X32_SYSCALL_BIT = 0x40000000


class Arch(Struct, frozen=True):
    scmp: str  # SCMP_ARCH_X86_64
    audit: int  # AUDIT_ARCH_X86_64
    table: str  # compose.runtime.syscall_tables name
    wide: bool  # 64-bit arguments


ARCHES = {
    a.scmp: a
    for a in (
        Arch("SCMP_ARCH_X86_64", 0xC000003E, "x86_64", True),
        Arch("SCMP_ARCH_X86", 0x40000003, "i386", False),
        Arch("SCMP_ARCH_AARCH64", 0xC00000B7, "aarch64", True),
    )
}
# platform.machine() -> (the profile's native arch name, its SCMP_ARCH_)
NATIVE = {"x86_64": ("amd64", "SCMP_ARCH_X86_64"), "aarch64": ("arm64", "SCMP_ARCH_AARCH64")}
_ACTIONS = {
    "SCMP_ACT_ALLOW": RET_ALLOW,
    "SCMP_ACT_ERRNO": RET_ERRNO,
    "SCMP_ACT_KILL": RET_KILL_THREAD,
    "SCMP_ACT_KILL_THREAD": RET_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": RET_KILL_PROCESS,
    "SCMP_ACT_TRAP": RET_TRAP,
    "SCMP_ACT_TRACE": RET_TRACE,
    "SCMP_ACT_LOG": RET_LOG,
}
_OPS = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT")
_MASKED = "SCMP_CMP_MASKED_EQ"


class SeccompProfileError(ValueError):
    """A profile that cannot be used; the message names what is wrong."""


# the profile ----------------------------------------------------------------------------
class Cond(Struct, frozen=True):
    index: int
    op: str
    value: int
    value_two: int = 0


class Rule(Struct, frozen=True):
    names: tuple[str, ...]
    action: int  # the BPF return value
    conds: tuple[Cond, ...] = ()
    includes: tuple[tuple[str, Any], ...] = ()  # ("caps", (...)), ("arches", (...)), ...
    excludes: tuple[tuple[str, Any], ...] = ()


class Profile(Struct, frozen=True):
    default: int
    arches: tuple[str, ...]  # SCMP_ARCH_ names the filter covers for this native arch
    rules: tuple[Rule, ...]


def _action(name: Any, errno_ret: Any, default_errno: int, where: str) -> int:
    if name == "SCMP_ACT_NOTIFY":
        raise SeccompProfileError(f"{where}: SCMP_ACT_NOTIFY is not supported")
    if name not in _ACTIONS:
        raise SeccompProfileError(f"{where}: unknown action {name!r}")
    base = _ACTIONS[name]
    if base in (RET_ERRNO, RET_TRACE):
        code = default_errno if errno_ret is None else errno_ret
        if not isinstance(code, int) or not 0 <= code <= 0xFFFF:
            raise SeccompProfileError(f"{where}: errnoRet {code!r} is not a small number")
        return base | code
    return base


def _cond(doc: Any, where: str) -> Cond:
    if not isinstance(doc, dict):
        raise SeccompProfileError(f"{where}: an argument rule must be an object")
    index, op = doc.get("index", 0), doc.get("op")
    if op not in (*_OPS, _MASKED):
        raise SeccompProfileError(f"{where}: unknown comparison {op!r}")
    if not isinstance(index, int) or not 0 <= index <= 5:
        raise SeccompProfileError(f"{where}: argument index {index!r} is not 0-5")
    value, two = doc.get("value", 0), doc.get("valueTwo", 0)
    for v in (value, two):
        if not isinstance(v, int) or not 0 <= v < 1 << 64:
            raise SeccompProfileError(f"{where}: {v!r} is not a 64-bit unsigned value")
    return Cond(index, op, value, two)


def _filter(doc: Any) -> tuple[tuple[str, Any], ...]:
    if not doc:
        return ()
    return tuple(
        (key, tuple(value) if isinstance(value, list) else value)
        for key, value in sorted(doc.items())
        if value
    )


def _arches(doc: dict[str, Any], machine: str) -> tuple[str, ...]:
    native = NATIVE.get(machine, ("", ""))[1]
    if doc.get("architectures") and doc.get("archMap"):
        raise SeccompProfileError("both 'architectures' and 'archMap' are given: use one")
    if doc.get("architectures"):
        return tuple(doc["architectures"])
    for entry in doc.get("archMap") or ():
        if entry.get("architecture") == native:
            return (native, *(entry.get("subArchitectures") or ()))
    return (native,)


def parse_profile(text: str, machine: str | None = None) -> Profile:
    """A Docker-format profile (JSON text); ``SeccompProfileError`` says what is wrong."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise SeccompProfileError(f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise SeccompProfileError("a profile is a JSON object")
    default_errno = doc.get("defaultErrnoRet", errno.EPERM)
    default = _action(doc.get("defaultAction"), default_errno, errno.EPERM, "defaultAction")
    rules = []
    for i, call in enumerate(doc.get("syscalls") or ()):
        where = f"syscalls[{i}]"
        names = call.get("names") or ([call["name"]] if call.get("name") else [])
        if call.get("name") and call.get("names"):
            raise SeccompProfileError(f"{where}: both 'name' and 'names' are given: use one")
        rules.append(
            Rule(
                names=tuple(names),
                action=_action(call.get("action"), call.get("errnoRet"), errno.EPERM, where),
                conds=tuple(_cond(a, f"{where}.args") for a in call.get("args") or ()),
                includes=_filter(call.get("includes")),
                excludes=_filter(call.get("excludes")),
            )
        )
    return Profile(default, _arches(doc, machine or platform.machine()), tuple(rules))


@functools.cache
def default_profile_text() -> str:
    return PROFILE_FILE.read_text()


def kernel_version(release: str | None = None) -> tuple[int, int]:
    parts = (release or os.uname().release).split(".")
    return int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)


def _version(text: str) -> tuple[int, int]:
    major, _, minor = str(text).partition(".")
    return int(major), int(minor or 0)


def applies(rule: Rule, native: str, caps: frozenset[str], kernel: tuple[int, int]) -> bool:
    """Docker's filter (moby ``setupSeccomp``): excludes first, then includes; caps are the
    container's (``CAP_`` names)."""
    ex, inc = dict(rule.excludes), dict(rule.includes)
    if native in ex.get("arches", ()) or any(c in caps for c in ex.get("caps", ())):
        return False
    if "minKernel" in ex and kernel >= _version(ex["minKernel"]):
        return False
    if inc.get("arches") and native not in inc["arches"]:
        return False
    if any(c not in caps for c in inc.get("caps", ())):
        return False
    return not ("minKernel" in inc and kernel < _version(inc["minKernel"]))


# the program ----------------------------------------------------------------------------
Insn = tuple[int, int, int, int]  # code, jt, jf, k (struct sock_filter)


class _Asm:
    """Forward jumps by label: jt/jf (8 bits) for short ones, JA (32 bits) for the tree."""

    def __init__(self) -> None:
        self.code: list[tuple[int, Any, Any, Any]] = []
        self.labels: dict[str, int] = {}
        self._n = 0

    def new(self) -> str:
        self._n += 1
        return f"L{self._n}"

    def at(self, label: str) -> None:
        self.labels[label] = len(self.code)

    def op(self, code: int, k: Any = 0, jt: Any = 0, jf: Any = 0) -> None:
        self.code.append((code, jt, jf, k))

    def assemble(self) -> list[Insn]:
        out = []
        for pc, (code, jt, jf, k) in enumerate(self.code):
            if code == BPF_JA:
                k = self._offset(pc, k, 1 << 32)
            else:
                jt, jf = self._offset(pc, jt, 256), self._offset(pc, jf, 256)
            out.append((code, jt, jf, k))
        if len(out) > BPF_MAXINSNS:
            raise SeccompProfileError(f"the profile needs {len(out)} BPF instructions (max 4096)")
        return out

    def _offset(self, pc: int, target: Any, limit: int) -> int:
        if isinstance(target, int):
            return target
        offset = self.labels[target] - pc - 1
        assert 0 <= offset < limit, (target, offset)
        return offset


def _arg_words(arch: Arch, index: int) -> tuple[int, int]:
    """Offsets of the low and high 32 bits of ``args[index]`` in ``struct seccomp_data``."""
    lo = 16 + 8 * index
    return lo, lo + 4  # little endian (x86_64, i386, aarch64)


def _cond_code(asm: _Asm, arch: Arch, cond: Cond, fail: str) -> None:
    lo_off, hi_off = _arg_words(arch, cond.index)
    if cond.op == _MASKED:
        mask, datum = cond.value, cond.value_two & cond.value
        for off, shift in ((hi_off, 32), (lo_off, 0)) if arch.wide else ((lo_off, 0),):
            asm.op(BPF_LD_W_ABS, off)
            asm.op(BPF_ALU_AND_K, (mask >> shift) & 0xFFFFFFFF)
            asm.op(BPF_JEQ_K, (datum >> shift) & 0xFFFFFFFF, 0, fail)
        return
    ok = asm.new()
    lo, hi = cond.value & 0xFFFFFFFF, cond.value >> 32
    if arch.wide:
        asm.op(BPF_LD_W_ABS, hi_off)
        if cond.op == "SCMP_CMP_EQ":
            asm.op(BPF_JEQ_K, hi, 0, fail)
        elif cond.op == "SCMP_CMP_NE":
            asm.op(BPF_JEQ_K, hi, 0, ok)
        elif cond.op in ("SCMP_CMP_GT", "SCMP_CMP_GE"):
            asm.op(BPF_JGT_K, hi, ok, 0)
            asm.op(BPF_JEQ_K, hi, 0, fail)
        else:  # LT, LE
            asm.op(BPF_JGE_K, hi, 0, ok)
            asm.op(BPF_JGT_K, hi, fail, 0)
    elif cond.value >> 32:
        raise SeccompProfileError(f"{cond.value:#x} does not fit a 32-bit argument")
    asm.op(BPF_LD_W_ABS, lo_off)
    test, true, false = {
        "SCMP_CMP_EQ": (BPF_JEQ_K, ok, fail),
        "SCMP_CMP_NE": (BPF_JEQ_K, fail, ok),
        "SCMP_CMP_GT": (BPF_JGT_K, ok, fail),
        "SCMP_CMP_GE": (BPF_JGE_K, ok, fail),
        "SCMP_CMP_LT": (BPF_JGE_K, fail, ok),
        "SCMP_CMP_LE": (BPF_JGT_K, fail, ok),
    }[cond.op]
    asm.op(test, lo, true, false)
    asm.at(ok)


Verdict = tuple[Any, ...]  # ("ret", value) | ("args", ((conds, ret), ...), fallback)


def _verdicts(rules: Sequence[Rule], table: dict[str, int], default: int) -> dict[int, Verdict]:
    per_nr: dict[int, list[Rule]] = {}
    for rule in rules:
        for name in rule.names:
            if name in table:
                per_nr.setdefault(table[name], []).append(rule)
    out: dict[int, Verdict] = {}
    for nr, found in per_nr.items():
        conditional = tuple((r.conds, r.action) for r in found if r.conds)
        plain = next((r.action for r in found if not r.conds), default)
        out[nr] = ("args", conditional, plain) if conditional else ("ret", plain)
    return out


def _ranges(verdicts: dict[int, Verdict], last: int, default: int) -> list[tuple[int, Verdict]]:
    """(first number, verdict) of each run of numbers sharing a plain verdict; the last run
    (the default, from ``last + 1``) covers every higher number."""
    runs: list[tuple[int, Verdict]] = []
    for nr in range(last + 2):
        verdict = verdicts.get(nr, ("ret", default))
        if not runs or verdict[0] == "args" or runs[-1][1] != verdict:
            runs.append((nr, verdict))
    return runs


def _leaf(asm: _Asm, arch: Arch, verdict: Verdict) -> None:
    if verdict[0] == "ret":
        asm.op(BPF_RET_K, verdict[1])
        return
    _kind, conditional, fallback = verdict
    for conds, action in conditional:
        fail = asm.new()
        for cond in conds:
            _cond_code(asm, arch, cond, fail)
        asm.op(BPF_RET_K, action)
        asm.at(fail)
    asm.op(BPF_RET_K, fallback)


def _tree(asm: _Asm, arch: Arch, runs: Sequence[tuple[int, Verdict]]) -> None:
    if len(runs) == 1:
        _leaf(asm, arch, runs[0][1])
        return
    mid = len(runs) // 2
    right = asm.new()
    asm.op(BPF_JGE_K, runs[mid][0], 0, 1)  # >= : the JA to the right half; else the left
    asm.op(BPF_JA, right)
    _tree(asm, arch, runs[:mid])
    asm.at(right)
    _tree(asm, arch, runs[mid:])


def build_program(
    profile: Profile, machine: str, caps: Iterable[str], kernel: tuple[int, int] | None = None
) -> list[Insn]:
    native = NATIVE[machine][0]
    cap_names = frozenset(c if c.startswith("CAP_") else f"CAP_{c}" for c in caps)
    rules = [r for r in profile.rules if applies(r, native, cap_names, kernel or kernel_version())]
    arches = [ARCHES[a] for a in dict.fromkeys(profile.arches) if a in ARCHES]
    refuses = profile.default not in (RET_ALLOW, RET_LOG)
    asm = _Asm()
    asm.op(BPF_LD_W_ABS, 4)  # seccomp_data.arch
    labels = []
    for arch in arches:
        labels.append(asm.new())
        asm.op(BPF_JEQ_K, arch.audit, 0, 1)
        asm.op(BPF_JA, labels[-1])
    asm.op(BPF_RET_K, RET_ENOSYS)  # an architecture the filter has no table for
    for arch, label in zip(arches, labels, strict=True):
        asm.at(label)
        table = syscall_tables.table(arch.table)
        verdicts = _verdicts(rules, table, profile.default)
        last = max((table[n] for r in rules for n in r.names if n in table), default=0)
        asm.op(BPF_LD_W_ABS, 0)  # seccomp_data.nr
        if arch.table == "x86_64":
            asm.op(BPF_JGE_K, X32_SYSCALL_BIT, 0, 1)
            asm.op(BPF_RET_K, RET_ENOSYS)  # the x32 ABI
        if refuses:
            asm.op(BPF_JGT_K, last, 0, 1)
            asm.op(BPF_RET_K, RET_ENOSYS)  # newer than every system call the profile names
        _tree(asm, arch, _ranges(verdicts, last, profile.default))
    return asm.assemble()


# installing -----------------------------------------------------------------------------
class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@functools.cache
def _parsed(text: str, machine: str) -> Profile:
    return parse_profile(text, machine)


@functools.cache
def program_bytes(profile_text: str, machine: str, caps: frozenset[str]) -> bytes:
    """The packed ``struct sock_filter`` array; ``profile_text`` "" = Docker's default (cached:
    the zygote builds the common ones once, its forks inherit them)."""
    profile = _parsed(profile_text or default_profile_text(), machine)
    return b"".join(struct.pack("HBBI", *ins) for ins in build_program(profile, machine, caps))


def supported(machine: str | None = None) -> bool:
    return (machine or platform.machine()) in NATIVE


def install(raw: bytes) -> None:
    """Install a ``program_bytes`` filter on the calling thread."""
    buf = ctypes.create_string_buffer(raw, len(raw))
    fprog = _SockFprog(len(raw) // 8, ctypes.addressof(buf))
    syscalls.prctl_ptr(syscalls.PR_SET_SECCOMP, syscalls.SECCOMP_MODE_FILTER, ctypes.byref(fprog))
