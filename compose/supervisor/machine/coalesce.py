"""Serialized runs of an idempotent job that callers may share (threads).

The job reads the current state and applies all of it (e.g. one service's DNAT table from the
replica records). A caller changes the state, then asks for a run; a run that *began* after
that request read the change, so once such a run has finished the caller has nothing left to
do. A burst of 20 replica starts thus costs a few nft transactions instead of 20 in a row.

    with publishing.turn() as due:      # ticket taken here, then the lock
        if not due:
            return                      # a later run already covered this request
        ... read the state, apply it ... (an exception leaves the request uncovered)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class Coalesced:
    def __init__(self) -> None:
        self._run = threading.Lock()  # one run at a time
        self._tickets = threading.Lock()
        self._issued = 0  # requests so far
        self._covered = 0  # every request up to this one was read by a finished run

    @contextlib.contextmanager
    def turn(self, force: bool = False) -> Iterator[bool]:
        """Yields False when a finished run covered this request; ``force``: run anyway (the
        caller reads the state differently, e.g. leaving out a replica being removed)."""
        with self._tickets:
            self._issued += 1
            ticket = self._issued
        with self._run:
            if self._covered >= ticket and not force:
                yield False
                return
            with self._tickets:
                upto = self._issued
            yield True
            self._covered = max(self._covered, upto)
