"""`run` in the foreground: the caller's terminal attached to a one-off container.

Without a TTY the container's stdio *are* the caller's fds (EOF on stdin reaches it). With one,
the container's monitor relays the caller's stdin/stdout to the pty; here the terminal is put in
raw mode (Ctrl-C, Ctrl-D travel as bytes to the container, as with docker), the pty gets the
terminal's size now and on every SIGWINCH, and signals to this process are passed on.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def stdio(interactive: bool) -> tuple[int, int, int]:
    stdin = sys.stdin.fileno() if interactive else os.open("/dev/null", os.O_RDONLY)
    return stdin, sys.stdout.fileno(), sys.stderr.fileno()


def copy_winsize(pid: int) -> None:
    """The caller's terminal size onto the container's pty (its PID 1's stdin)."""
    import fcntl
    import termios

    with contextlib.suppress(OSError):
        size = fcntl.ioctl(sys.stdin.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
        fd = os.open(f"/proc/{pid}/fd/0", os.O_RDWR | os.O_NOCTTY)
        try:
            fcntl.ioctl(fd, termios.TIOCSWINSZ, size)
        finally:
            os.close(fd)


@contextlib.contextmanager
def raw_terminal(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(sys.stdin.fileno())
    tty.setraw(sys.stdin.fileno())
    try:
        yield
    finally:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


@contextlib.contextmanager
def forwarding(send: Callable[[int], None], pid: int, tty: bool) -> Iterator[None]:
    """Signals to this process go to the container; SIGWINCH resizes its pty."""

    def on_signal(signum: int, _frame: Any) -> None:
        send(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in FORWARDED}
    if tty:
        previous[signal.SIGWINCH] = signal.signal(signal.SIGWINCH, lambda *_: copy_winsize(pid))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
