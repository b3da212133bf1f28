"""Coalesced runs: serialized, shared by a burst, and never returning before a run that read
the caller's change has finished."""

from __future__ import annotations

import threading
import time

from compose.supervisor.machine.coalesce import Coalesced


def test_a_burst_shares_runs_and_every_change_is_applied_before_its_caller_returns():
    job = Coalesced()
    state = {"changes": 0}
    applied: list[int] = []  # what each run read
    seen_by: dict[int, tuple[int, int]] = {}  # caller -> (its change, applied when it returned)
    running = threading.Lock()

    def caller(n: int) -> None:
        with running:
            state["changes"] += 1  # the caller's change (a replica record saved)
            mine = state["changes"]
        with job.turn() as due:
            if due:
                snapshot = state["changes"]
                time.sleep(0.02)  # an nft transaction
                applied.append(snapshot)
        seen_by[n] = (mine, max(applied))

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen_by) == 12 and applied[-1] == 12
    assert all(done >= mine for mine, done in seen_by.values())  # applied when it returned
    assert len(applied) < 12  # shared: 12 callers, a few runs
    assert applied == sorted(applied)


def test_forced_and_failed_runs():
    job = Coalesced()
    runs = []
    with job.turn() as due:
        runs.append(due)
    with job.turn(force=True) as due:  # nothing new, but forced
        runs.append(due)
    try:
        with job.turn() as due:
            runs.append(due)
            raise OSError("nft: busy")
    except OSError:
        pass
    with job.turn() as due:  # the failed run covered nothing: this one runs
        runs.append(due)
    assert runs == [True, True, True, True]
