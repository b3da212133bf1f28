"""Replica records under concurrent writers: a late exit seen while a removal deletes the
record must not bring it back (a ghost `exited` replica that the next `up` would restart)."""

from __future__ import annotations

import threading

from compose.state import ReplicaRecord
from compose.supervisor.machine.linux import LinuxDriver
from compose.supervisor.tracker import ReplicaState


def test_a_late_exit_does_not_bring_back_a_removed_record(monkeypatch):
    driver = LinuxDriver("p", runtime=object())  # type: ignore[arg-type]
    store, replicas = driver.ctx.store, driver.replicas
    store.save_replica(ReplicaRecord("p", "web", 1, status="running", pid=10))
    loaded, deleted = threading.Event(), threading.Event()
    real_load = store.load_replica

    def slow_load(name: str) -> ReplicaRecord | None:  # persist read the record, then stalls
        record = real_load(name)
        loaded.set()
        deleted.wait(0.3)
        return record

    def remove() -> None:  # the removal's worker thread, once persist has read
        loaded.wait(5)
        replicas.remove("p-web-1")
        deleted.set()

    monkeypatch.setattr(replicas, "remove_process", lambda record: None)
    monkeypatch.setattr(store, "load_replica", slow_load)
    remover = threading.Thread(target=remove)
    remover.start()
    replicas.persist(ReplicaState("web", 1, "p-web-1", "exited", exit_code=0))
    remover.join(5)
    monkeypatch.setattr(store, "load_replica", real_load)
    assert store.replicas() == []
