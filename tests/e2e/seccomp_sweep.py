"""Run INSIDE a container (python3 seccomp_sweep.py OUT.json): every system call number of both
x86 ABIs once, in a forked child each (a call may block, exit, fork or kill its caller), all
arguments 0 except the few probes listed; writes {"x86_64": {nr: result}, "i386": {...},
"probes": {...}}, a result being 0 (returned >= 0), an errno, "sig<N>" or "blocked".

Not a test module: tests/e2e/test_security_e2e_seccomp.py mounts it into the containers.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import signal
import sys
import time

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long
X32 = 0x40000000
# i386 through int 0x80 from a 64-bit process: push rbx/rbp; eax = nr; ebx..ebp = 0; int 0x80
INT80 = bytes.fromhex("535589f831db31c931d231f631ff31edcd805d5bc3")
PROBES = {  # name: (x86_64 number, args)
    "personality(ADDR_NO_RANDOMIZE)": (135, (0x0040000,)),
    "personality(query)": (135, (0xFFFFFFFF,)),
    "socket(AF_VSOCK)": (41, (40, 1, 0)),
    "socket(AF_ALG)": (41, (38, 5, 0)),
    "socket(AF_INET)": (41, (2, 1, 0)),
    "clone(CLONE_NEWUSER)": (56, (0x10000000 | 17,)),
    "unshare(CLONE_NEWNS)": (272, (0x00020000,)),
}


def _int80() -> ctypes._CFuncPtr:
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(INT80)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    func = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_long)(address)
    func.page = page  # type: ignore[attr-defined]  # keep the mapping alive
    return func


def _call(abi: str, nr: int, args: tuple[int, ...]) -> object:
    if abi == "i386":
        ret = _INT80(nr)
        return ret if ret >= 0 else -ret
    ctypes.set_errno(0)
    full = [ctypes.c_ulong(a) for a in (args + (0,) * 6)[:6]]
    ret = LIBC.syscall(ctypes.c_long(nr), *full)
    return 0 if ret >= 0 else ctypes.get_errno()


def one(abi: str, nr: int, args: tuple[int, ...] = ()) -> object:
    """A call that looks blocked is tried again with more time: on a loaded machine the child
    may not even reach the call within the first timer."""
    result = _once(abi, nr, args, 0.05)
    for timer in (0.3, 1.0):
        if result != "blocked":
            break
        result = _once(abi, nr, args, timer)
    return result


def _once(abi: str, nr: int, args: tuple[int, ...], timer: float) -> object:
    read, write = os.pipe()
    me = os.fork()
    if me == 0:
        os.close(read)
        child = os.getpid()
        signal.setitimer(signal.ITIMER_REAL, timer)  # a blocking call: killed by SIGALRM
        result = _call(abi, nr, args)
        if os.getpid() != child:  # fork, vfork, clone: the copy leaves at once
            os._exit(0)
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    deadline = time.monotonic() + timer + 5
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(me, os.WNOHANG)
        if done:
            break
        time.sleep(0.001)
    else:
        os.kill(me, signal.SIGKILL)  # stopped (ptrace TRACEME, then SIGALRM) or stuck
        os.waitpid(me, 0)
    data = os.read(read, 64)
    os.close(read)
    if data:
        return json.loads(data)
    if status is not None and os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return "blocked" if sig == signal.SIGALRM else f"sig{sig}"
    return "blocked" if status is None else "exit"


def main(out: str, highest: int) -> None:
    report: dict[str, object] = {}
    numbers = [*range(highest + 9), 1000, 4095, 0x3FFFFFFF, X32 | 1, X32 | 39, X32 | 520]
    report["x86_64"] = {n: one("x86_64", n) for n in numbers}
    i386 = one("i386", 20)  # getpid: is the 32-bit ABI there at all?
    if i386 != 38:
        report["i386"] = {n: one("i386", n) for n in range(highest + 9)}
    report["probes"] = {name: one("x86_64", nr, args) for name, (nr, args) in PROBES.items()}
    with open(out, "w") as fh:
        json.dump(report, fh)


_INT80 = _int80()

if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
