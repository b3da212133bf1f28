"""Who a project belongs to: the ``io.pycompose.owner.*`` labels of its project record.

A test session's stacks carry their owner (pid + start time, so a reused pid is not taken for
it) and the identity they were named from (run, worker, config hash). ``ls`` shows the owner;
a later session sweeps the projects whose owner is dead (``compose.testing``); the supervisor
itself watches the owner through a pidfd (``compose.supervisor.owner``).
"""

from __future__ import annotations

from collections.abc import Mapping

from compose.procfs import is_alive

PID = "io.pycompose.owner.pid"
START = "io.pycompose.owner.start"
NAME = "io.pycompose.owner"  # what the owner is, for people: "pytest gw0"
KEPT = "io.pycompose.kept"  # disowned on purpose (--pycompose-keep): never swept


def owner_labels(pid: int, start_time: int | None, name: str = "") -> dict[str, str]:
    labels = {PID: str(pid), START: "" if start_time is None else str(start_time)}
    if name:
        labels[NAME] = name
    return labels


def owner_pid(labels: Mapping[str, str]) -> tuple[int, int | None] | None:
    """(pid, start time) of the owner the labels name; None when the project has none."""
    raw = labels.get(PID, "")
    if not raw.isdigit():
        return None
    start = labels.get(START, "")
    return int(raw), int(start) if start.isdigit() else None


def orphaned(labels: Mapping[str, str]) -> bool:
    """The project had an owner and that process is gone (a sweep brings it down)."""
    owner = owner_pid(labels)
    return owner is not None and not is_alive(*owner)


def describe(labels: Mapping[str, str]) -> str:
    """``ls``'s OWNER column: ``pid 4242 pytest gw0``, ``... (gone)``, ``kept``, or ""."""
    if labels.get(KEPT):
        return f"kept ({labels[KEPT]})"
    owner = owner_pid(labels)
    if owner is None:
        return ""
    text = " ".join(filter(None, [f"pid {owner[0]}", labels.get(NAME, "")]))
    return text if is_alive(*owner) else f"{text} (gone)"
