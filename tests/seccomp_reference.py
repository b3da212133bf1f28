"""What Docker's seccomp rules say a system call gets, read straight from the profile's JSON
(moby ``setupSeccomp`` + runc's ENOSYS rule + libseccomp's argument comparisons), written
independently of ``compose.runtime.seccomp`` so tests can hold the compiled filter (and real
containers) against it; and a classic-BPF interpreter to run a compiled filter without a kernel.

Only the syscall number tables come from pycompose (``syscall_tables``, which is data).
"""

from __future__ import annotations

import errno
import functools
import json
import struct
from pathlib import Path
from typing import Any

from compose.runtime.syscall_tables import table

PROFILE = Path(__file__).resolve().parents[1] / "compose" / "runtime" / "seccomp_default.json"
AUDIT = {"x86_64": 0xC000003E, "i386": 0x40000003, "aarch64": 0xC00000B7}
NATIVE = {"x86_64": "amd64", "aarch64": "arm64"}

ALLOW = "allow"
Result = str | int  # "allow" or an errno


@functools.cache
def _profile_text() -> str:
    return PROFILE.read_text()


def docker_profile() -> dict[str, Any]:
    return json.loads(_profile_text())


_DOCKER: dict[str, Any] = json.loads(PROFILE.read_text())


def _applies(call: dict[str, Any], native: str, caps: set[str], kernel: tuple[int, int]) -> bool:
    ex, inc = call.get("excludes") or {}, call.get("includes") or {}
    if native in (ex.get("arches") or []):
        return False
    if any(c in caps for c in ex.get("caps") or []):
        return False
    if ex.get("minKernel") and kernel >= tuple(map(int, ex["minKernel"].split("."))):
        return False
    if inc.get("arches") and native not in inc["arches"]:
        return False
    if any(c not in caps for c in inc.get("caps") or []):
        return False
    return not (inc.get("minKernel") and kernel < tuple(map(int, inc["minKernel"].split("."))))


def _holds(arg: dict[str, Any], args: tuple[int, ...], wide: bool) -> bool:
    value = args[arg.get("index", 0)] & ((1 << 64) - 1 if wide else 0xFFFFFFFF)
    want, two = arg.get("value", 0), arg.get("valueTwo", 0)
    return {
        "SCMP_CMP_EQ": value == want,
        "SCMP_CMP_NE": value != want,
        "SCMP_CMP_LT": value < want,
        "SCMP_CMP_LE": value <= want,
        "SCMP_CMP_GT": value > want,
        "SCMP_CMP_GE": value >= want,
        "SCMP_CMP_MASKED_EQ": value & want == two & want,
    }[arg["op"]]


def _result(call: dict[str, Any] | None, profile: dict[str, Any]) -> Result:
    if call is None and profile["defaultAction"] == "SCMP_ACT_ALLOW":
        return ALLOW
    if call is None:
        return profile.get("defaultErrnoRet", errno.EPERM)
    if call["action"] == "SCMP_ACT_ALLOW":
        return ALLOW
    assert call["action"] == "SCMP_ACT_ERRNO"
    return call.get("errnoRet", errno.EPERM)


def expected(
    nr: int,
    *,
    arch: str = "x86_64",
    native: str = "x86_64",
    caps: set[str] = frozenset(),  # type: ignore[assignment]
    args: tuple[int, ...] = (0, 0, 0, 0, 0, 0),
    kernel: tuple[int, int] = (6, 18),
    profile: dict[str, Any] | None = None,
) -> Result:
    """``ALLOW`` or the errno Docker's profile gives system call ``nr`` of ``arch``."""
    profile = profile or _DOCKER
    if arch == "x86_64" and nr & 0x40000000:
        return errno.ENOSYS  # x32: pycompose refuses the ABI
    names = table(arch)
    calls = [c for c in profile["syscalls"] if _applies(c, NATIVE[native], set(caps), kernel)]
    last = max(names[n] for c in calls for n in c["names"] if n in names)
    if nr > last and profile["defaultAction"] != "SCMP_ACT_ALLOW":
        return errno.ENOSYS  # runc: newer than every system call the profile names
    mine = [c for c in calls if any(names.get(n) == nr for n in c["names"])]
    wide = arch != "i386"
    for call in [c for c in mine if c.get("args")]:
        if all(_holds(a, args, wide) for a in call["args"]):
            return _result(call, profile)
    plain = [c for c in mine if not c.get("args")]
    return _result(plain[0] if plain else None, profile)


def run_bpf(prog: list[tuple[int, int, int, int]], nr: int, audit: int, args=(0,) * 6) -> int:
    """The return value of a classic-BPF seccomp program for one ``struct seccomp_data``."""
    return trace_bpf(prog, nr, audit, args)[0]


def trace_bpf(prog, nr: int, audit: int, args=(0,) * 6) -> tuple[int, int]:
    """(return value, instructions executed)."""
    args = (tuple(args) + (0,) * 6)[:6]
    data = struct.pack("<iIQ6Q", nr, audit, 0, *[a & ((1 << 64) - 1) for a in args])
    acc, pc, steps = 0, 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        pc += 1
        steps += 1
        if code == 0x20:  # ld [k]
            acc = struct.unpack_from("<I", data, k)[0]
        elif code == 0x54:  # and #k
            acc &= k
        elif code == 0x06:  # ret #k
            return k, steps
        elif code == 0x05:  # ja
            pc += k
        else:
            taken = {0x15: acc == k, 0x25: acc > k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if taken else jf


def as_result(ret: int) -> Result:
    if ret == 0x7FFF0000:
        return ALLOW
    assert ret & 0xFFFF0000 == 0x00050000, hex(ret)
    return ret & 0xFFFF
