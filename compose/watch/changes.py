"""A batch of changed host files → what to do to each service (pure), docker compose's rules:
a service with a ``rebuild`` rule that matched is rebuilt and recreated (nothing else is done
to it); otherwise its matched sync rules copy the files (or remove the deleted ones), then
``sync+exec`` runs its command, and ``sync+restart``/``restart`` restart it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from compose.watch.rules import SYNCS, Exec, Rule


@dataclass(frozen=True)
class Sync:
    service: str
    items: tuple[tuple[Path, str], ...]  # (host path, container path)


@dataclass(frozen=True)
class Run:
    service: str
    exec: Exec


@dataclass(frozen=True)
class Restart:
    service: str


@dataclass(frozen=True)
class Rebuild:
    service: str


Task = Sync | Run | Restart | Rebuild


@dataclass
class _Service:
    syncs: dict[Path, str] = field(default_factory=dict)
    runs: list[Exec] = field(default_factory=list)
    restart: bool = False
    rebuild: bool = False


def tasks_for(rules: Iterable[Rule], changed: Iterable[Path]) -> list[Task]:
    """What the changed files ask of each service, services in the rules' order."""
    files = sorted(set(changed))
    per: dict[str, _Service] = {}
    for rule in rules:
        hits = [f for f in files if rule.covers(f)]
        if not hits:
            continue
        todo = per.setdefault(rule.service, _Service())
        if rule.action == "rebuild":
            todo.rebuild = True
        if rule.action in SYNCS:
            todo.syncs.update({f: rule.container_path(f) for f in hits})
        if rule.action == "sync+exec" and rule.exec is not None and rule.exec not in todo.runs:
            todo.runs.append(rule.exec)
        if rule.action in ("sync+restart", "restart"):
            todo.restart = True
    tasks: list[Task] = []
    for service, todo in per.items():
        if todo.rebuild:
            tasks.append(Rebuild(service))
            continue
        if todo.syncs:
            tasks.append(Sync(service, tuple(todo.syncs.items())))
        tasks += [Run(service, run) for run in todo.runs]
        if todo.restart:
            tasks.append(Restart(service))
    return tasks


def initial(rules: Iterable[Rule]) -> list[Task]:
    """``initial_sync``: every file under those sync rules' paths, at the start."""
    tasks: list[Task] = []
    for rule in rules:
        if not rule.initial_sync or rule.action not in SYNCS or not rule.path.exists():
            continue
        files = [rule.path] if rule.path.is_file() else sorted(rule.path.rglob("*"))
        items = tuple((f, rule.container_path(f)) for f in files if f.is_file() and rule.covers(f))
        if items:
            tasks.append(Sync(rule.service, items))
    return tasks
