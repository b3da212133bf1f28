"""The last moments before execve: Docker's PATH lookup and a clean process state (pure-ish,
shared by the container init and the exec helper)."""

from __future__ import annotations

import contextlib
import errno
import os
import signal


def find_executable(name: str, env: dict[str, str]) -> str:
    """Go's exec.LookPath as runc uses it; raises OSError with Docker's wording."""
    if "/" in name:
        try:
            os.stat(name)
        except OSError as err:
            why = (err.strerror or "").lower()
            raise OSError(err.errno, f'exec: "{name}": stat {name}: {why}') from None
        return name
    for d in env.get("PATH", "").split(":"):
        path = os.path.join(d or ".", name)
        try:
            st = os.stat(path)
        except OSError:
            continue
        if not os.path.isdir(path) and st.st_mode & 0o111:
            return path
    raise OSError(errno.ENOENT, f'exec: "{name}": executable file not found in $PATH')


def reset_process_state() -> None:
    """What the zygote's Python changed and execve would keep: ignored signals (SIGPIPE, SIGINT,
    SIGXFSZ), the signal mask, the umask. The workload starts like Docker's: defaults, 0022."""
    for sig in signal.valid_signals():
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            with contextlib.suppress(OSError, ValueError):
                signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    os.umask(0o022)
