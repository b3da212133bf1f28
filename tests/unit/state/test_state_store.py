"""State records: atomic JSON with schema_version, lock, liveness by pid + start time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from compose.errors import ProjectLockedError, StateError
from compose.state import (
    NetworkRecord,
    PortRecord,
    ProjectLock,
    ProjectRecord,
    ReplicaRecord,
    StateStore,
    is_alive,
    is_locked,
    list_projects,
    observe_project,
    process_start_time,
)


def test_replica_round_trip_keeps_every_field():
    store = StateStore("demo")
    rec = ReplicaRecord(
        "demo",
        "web",
        2,
        pid=123,
        start_time=456,
        config_hash="abc",
        status="running",
        ips={"default": "10.1.0.2"},
        ports=(PortRecord(80, 8080),),
        health="healthy",
    )
    store.save_replica(rec)
    assert rec.name == "demo-web-2"
    assert store.load_replica("demo-web-2") == rec
    assert store.replicas() == [rec]


def test_a_record_another_process_rewrites_is_read_again():
    """Parsed records are reused only while their file is unchanged: a rewrite by another
    writer (same size, same name: created -> running), a removal and a new file are all seen."""
    mine, theirs = StateStore("demo"), StateStore("demo")
    mine.save_replica(ReplicaRecord("demo", "web", 1, status="created", pid=100))
    assert [r.status for r in mine.replicas()] == ["created"]
    theirs.save_replica(ReplicaRecord("demo", "web", 1, status="running", pid=101))
    theirs.save_replica(ReplicaRecord("demo", "web", 2, status="running"))
    assert [(r.status, r.pid) for r in mine.replicas()] == [("running", 101), ("running", None)]
    assert mine.load_replica("demo-web-1").pid == 101
    theirs.delete_replica("demo-web-1")
    assert mine.load_replica("demo-web-1") is None
    assert [r.name for r in mine.replicas()] == ["demo-web-2"]


def test_project_round_trip_and_listing():
    store = StateStore("demo")
    nets = (NetworkRecord("default", "demo_default"),)
    rec = ProjectRecord("demo", "/src", ("compose.yaml",), 1.0, nets)
    store.save_project(rec)
    assert store.load_project() == rec
    assert list_projects() == ["demo"]
    data = json.loads(store.project_file.read_text())
    assert data["schema_version"] == 1


def test_unknown_schema_version_is_a_clear_error():
    store = StateStore("demo")
    store.project_file.parent.mkdir(parents=True)
    store.project_file.write_text(json.dumps({"name": "demo", "schema_version": 99}))
    with pytest.raises(StateError, match="schema_version 99"):
        store.load_project()


def test_atomic_write_leaves_no_temp_files():
    store = StateStore("demo")
    for i in range(5):
        store.save_replica(ReplicaRecord("demo", "web", 1, restart_count=i))
    assert [p.name for p in store.replicas_dir.iterdir()] == ["demo-web-1.json"]


def test_a_rewrite_swaps_whole_files():
    """A reader that opened the record before a rewrite reads the old text whole; the next
    read sees the new one (the rewrite is a swap of two files, never a write in place)."""
    store = StateStore("demo")
    store.save_replica(ReplicaRecord("demo", "web", 1, status="created"))
    with store.replica_file("demo-web-1").open() as before:
        store.save_replica(ReplicaRecord("demo", "web", 1, status="running", pid=7))
        assert json.loads(before.read())["status"] == "created"
    assert store.load_replica("demo-web-1").pid == 7
    assert [p.name for p in store.replicas_dir.iterdir()] == ["demo-web-1.json"]


def test_delete_replica_tolerates_absence():
    store = StateStore("demo")
    store.delete_replica("demo-web-9")
    assert store.replicas() == []


def test_liveness_uses_start_time():
    me = os.getpid()
    start = process_start_time(me)
    assert start is not None
    assert is_alive(me, start)
    assert not is_alive(me, start + 1)  # pid reused by another process
    assert not is_alive(None, None)


def test_dead_running_replica_is_observed_exited():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    start = process_start_time(proc.pid)
    proc.wait()
    store = StateStore("demo")
    dead = ReplicaRecord("demo", "db", 1, pid=proc.pid, start_time=start, status="running")
    store.save_replica(dead)
    store.save_replica(
        ReplicaRecord(
            "demo",
            "web",
            1,
            pid=os.getpid(),
            start_time=process_start_time(os.getpid()),
            status="running",
        )
    )
    observed = observe_project("demo")
    status = {r.name: (r.status, r.alive) for r in observed.replicas}
    assert status == {"demo-db-1": ("exited", False), "demo-web-1": ("running", True)}


def test_lock_is_exclusive_and_released():
    with ProjectLock("demo"):
        assert is_locked("demo")
        with pytest.raises(ProjectLockedError, match='project "demo"'):
            ProjectLock("demo").acquire()
    assert not is_locked("demo")
    assert observe_project("demo").supervisor_pid is None


def test_lock_held_by_other_process_is_seen():
    with ProjectLock("demo"):
        assert observe_project("demo").supervisor_pid == os.getpid()


def test_a_down_asked_after_an_up_is_seen_by_it():
    """An `up` asked at ``t`` that gets the lock only after a `down` began does not start."""
    from compose.state.lock import down_asked_since, note_down_asked

    before = time.time()
    assert not down_asked_since("demo", before)  # no `down` ever
    note_down_asked("demo")
    after = time.time()
    assert down_asked_since("demo", before) and not down_asked_since("demo", after)
    assert not down_asked_since("other", before)


def test_the_lock_holder_is_named_for_an_error():
    from compose.state.lock import holder

    assert holder("demo") == "another pycompose process"  # nobody holds it
    with ProjectLock("demo"):
        assert holder("demo").startswith(f"process {os.getpid()} (")
