"""Run work in threads and wait for all of it, Ctrl-C included.

Waiting is done on events, never with ``Thread.join``: a KeyboardInterrupt that lands in
``join`` can leave CPython 3.11 believing the thread has ended, so a later ``join`` returns at
once and the process exits under a running build. On Ctrl-C ``cancel`` is set and every thread
is still waited for (each kills its container and removes its files), then the interrupt is
raised again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_all(targets: list[Callable[[], None]], cancel: threading.Event) -> None:
    done = [threading.Event() for _ in targets]

    def wrap(target: Callable[[], None], finished: threading.Event) -> None:
        try:
            target()
        finally:
            finished.set()

    for target, finished in zip(targets, done, strict=True):
        threading.Thread(target=wrap, args=(target, finished), daemon=True).start()
    interrupted = False
    while not all(e.is_set() for e in done):
        try:
            for finished in done:
                while not finished.wait(0.2):
                    pass
        except KeyboardInterrupt:
            interrupted = True
            cancel.set()
    if interrupted:
        raise KeyboardInterrupt
