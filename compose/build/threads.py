"""Run work in threads and wait for all of it, Ctrl-C included.

Waiting is done on events, never with ``Thread.join``: a KeyboardInterrupt that lands in
``join`` can leave CPython 3.11 believing the thread has ended, so a later ``join`` returns at
once and the process exits under a running build. On Ctrl-C ``cancel`` is set and every thread
is still waited for (each kills its container and removes its files), then the interrupt is
raised again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
TWO_THREADS_FROM = 64  # fewer jobs run in the caller's thread: a thread costs more than they save


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
    for finished in done:
        interrupted = wait_out(finished, cancel.set) or interrupted
    if interrupted:
        raise KeyboardInterrupt


def wait_out(event: threading.Event, on_interrupt: Callable[[], None] | None = None) -> bool:
    """Wait until ``event`` is set, by short waits; a Ctrl-C meanwhile calls ``on_interrupt``
    and the wait goes on. True when one came (the caller raises it again)."""
    interrupted = False
    while not event.is_set():
        try:
            event.wait(0.2)
        except KeyboardInterrupt:
            interrupted = True
            if on_interrupt is not None:
                on_interrupt()
    return interrupted


def in_two_halves(work: Callable[[T], R], jobs: Sequence[T], fallback: R) -> list[R]:
    """``[work(job) for job in jobs]``, the first half in a second thread and the second in
    the caller's (contiguous halves: a copy's threads stay in their own directories). Work
    that is mostly system calls (file creation, reads, hashing) runs on two cores this way.
    The first error is raised once both halves have stopped: the other half stops at its
    next job (its results stay ``fallback``), so nothing runs after the caller has gone on,
    e.g. to remove a layer after Ctrl-C. Fewer than ``TWO_THREADS_FROM`` jobs, or one CPU:
    all in the caller's thread."""
    if len(jobs) < TWO_THREADS_FROM or (os.cpu_count() or 1) < 2:
        return [work(job) for job in jobs]
    half = len(jobs) // 2
    results: list[R] = [fallback] * len(jobs)
    errors: list[BaseException] = []
    stop = threading.Event()
    helper_done = threading.Event()

    def run(start: int, end: int) -> None:
        try:
            for i in range(start, end):
                if stop.is_set():
                    return
                results[i] = work(jobs[i])
        except BaseException as err:
            errors.append(err)
            stop.set()

    def helper() -> None:
        try:
            run(0, half)
        finally:
            helper_done.set()

    threading.Thread(target=helper, daemon=True).start()
    try:
        run(half, len(jobs))
    finally:
        if errors:
            stop.set()
        interrupted = wait_out(helper_done, stop.set)
    if interrupted:
        raise KeyboardInterrupt
    if errors:
        raise errors[0]
    return results
