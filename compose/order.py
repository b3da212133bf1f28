"""Dependency order over plain names: the one topological sort.

``generations({service: services it needs})`` gives the start order (the reverse is the stop
order). The model's graph (``compose.graph``), the desired state and the planner's down/stop
plans from records all order through it. A leaf: stdlib only, cheap to import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def generations(needs: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Topological generations, dependencies first, each sorted by name (stable plans and
    output); the names of one generation can act in parallel. A need outside the mapping is
    ignored. A cycle (the model rejects them: only records written by hand can hold one) is
    broken at its smallest name, so every name comes out exactly once."""
    pending = {
        name: {n for n in needed if n in needs and n != name} for name, needed in needs.items()
    }
    order: list[list[str]] = []
    while pending:
        ready = sorted(name for name, needed in pending.items() if not needed) or [min(pending)]
        order.append(ready)
        for name in ready:
            del pending[name]
        for needed in pending.values():
            needed.difference_update(ready)
    return order


def flat(needs: Mapping[str, Iterable[str]]) -> list[str]:
    """``generations`` in one list: a start order."""
    return [name for generation in generations(needs) for name in generation]
