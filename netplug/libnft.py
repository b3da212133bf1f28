"""nftables commands in-process through libnftables (ctypes), falling back to the ``nft`` CLI.

The CLI costs ~15-20 ms per call (process start, cache load); libnftables ~1 ms. Both run in the
calling thread's netns: the library's netlink socket is opened inside ``entered(netns)``, and a
forked ``nft`` inherits the thread's netns.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import shutil
import subprocess

from netplug.errors import KernelError
from netplug.netns import NetnsRef, entered

NFT_CTX_OUTPUT_JSON = 1 << 4


@functools.cache
def _lib() -> ctypes.CDLL | None:
    lib = _open("libnftables.so.1") or _open(ctypes.util.find_library("nftables"))
    if lib is None:
        return None
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
    for fn in ("nft_ctx_buffer_output", "nft_ctx_buffer_error"):
        getattr(lib, fn).argtypes = [ctypes.c_void_p]
    for fn in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
        getattr(lib, fn).argtypes = [ctypes.c_void_p]
        getattr(lib, fn).restype = ctypes.c_char_p
    lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    return lib


def _open(name: str | None) -> ctypes.CDLL | None:
    """The library by its soname first: ``find_library`` forks ``ldconfig -p`` (5-10 ms from
    a supervisor with threads, in the middle of its first network's creation)."""
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def run(netns: NetnsRef, command: str, *, json_output: bool = False) -> str:
    """Run nft command text (one or many lines, applied as one transaction); return stdout."""
    lib = _lib()
    with entered(netns):
        if lib is None:
            return _run_cli(command, json_output)
        return _run_lib(lib, command, json_output)


def _run_lib(lib: ctypes.CDLL, command: str, json_output: bool) -> str:
    ctx = lib.nft_ctx_new(0)
    if not ctx:
        raise KernelError("nft: cannot create a libnftables context")
    try:
        lib.nft_ctx_buffer_output(ctx)
        lib.nft_ctx_buffer_error(ctx)
        if json_output:
            lib.nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON)
        if lib.nft_run_cmd_from_buffer(ctx, command.encode()) != 0:
            error = (lib.nft_ctx_get_error_buffer(ctx) or b"").decode().strip().splitlines()
            raise KernelError(f"nft {_first(command)}: {error[0] if error else 'failed'}")
        return (lib.nft_ctx_get_output_buffer(ctx) or b"").decode()
    finally:
        lib.nft_ctx_free(ctx)


def _run_cli(command: str, json_output: bool) -> str:
    exe = shutil.which("nft") or "/usr/sbin/nft"
    argv = [exe, *(["-j"] if json_output else []), "-f", "-"]
    proc = subprocess.run(argv, input=command, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        raise KernelError(f"nft {_first(command)}: {detail[0] if detail else proc.returncode}")
    return proc.stdout


def _first(command: str) -> str:
    return command.strip().splitlines()[0] if command.strip() else ""
