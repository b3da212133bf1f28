"""compose.graph: edges from every kind of reference, generations, cycles, unknown targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose.errors import DependencyCycleError, StackValidationError, UnknownServiceError
from compose.graph import ServiceGraph
from compose.model import Stack, stack_from_tree
from compose.stackfile import LoadedStack, SourceMap


def _stack(
    services: dict, *, consistency: bool = False, disabled: frozenset[str] = frozenset()
) -> Stack:
    tree = {"services": {k: {"image": "busybox", **v} for k, v in services.items()}}
    loaded = LoadedStack("p", Path("/w"), (), {}, tree, SourceMap(), (), disabled)
    return stack_from_tree(loaded, consistency=consistency)


def _dep(target: str, condition: str = "service_started", **kw: object) -> dict:
    return {target: {"condition": condition, "required": True, **kw}}


def test_generations_start_dependencies_first() -> None:
    stack = _stack(
        {
            "web": {"depends_on": {**_dep("db", "service_healthy"), **_dep("cache")}},
            "db": {},
            "cache": {"links": ["db:database"]},
            "worker": {"network_mode": "service:web"},
            "side": {},
        }
    )
    graph = ServiceGraph.from_stack(stack)
    assert graph.start_order() == [["db", "side"], ["cache"], ["web"], ["worker"]]
    assert graph.dependencies("web") == {"db", "cache"}
    assert graph.dependencies("worker", transitive=True) == {"web", "db", "cache"}
    dep = graph.dependency("web", "db")
    assert dep.condition == "service_healthy" and dep.required and dep.kinds == {"depends_on"}
    assert graph.dependency("cache", "db").kinds == {"links"}


def test_every_reference_kind_is_an_edge() -> None:
    stack = _stack(
        {
            "a": {"ipc": "service:b", "pid": "service:c", "volumes_from": ["d:ro", "container:x"]},
            "b": {},
            "c": {},
            "d": {},
            "e": {"volumes_from": ["service:d"]},
        }
    )
    graph = ServiceGraph.from_stack(stack)
    assert graph.dependencies("a") == {"b", "c", "d"}
    assert graph.dependencies("e") == {"d"}
    assert graph.dependency("a", "b").kinds == {"ipc"}


def test_merged_edge_keeps_depends_on_attributes() -> None:
    stack = _stack(
        {
            "web": {"links": ["db"], "depends_on": _dep("db", "service_healthy", restart=True)},
            "db": {},
        }
    )
    dep = ServiceGraph.from_stack(stack).dependency("web", "db")
    assert (
        dep.kinds == {"links", "depends_on"} and dep.restart and dep.condition == "service_healthy"
    )


def test_cycle_prints_its_path() -> None:
    stack = _stack(
        {
            "web": {"depends_on": _dep("db")},
            "db": {"depends_on": _dep("cache")},
            "cache": {"links": ["web"]},
        }
    )
    with pytest.raises(DependencyCycleError, match="web → db → cache → web"):
        ServiceGraph.from_stack(stack)


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(DependencyCycleError, match="web → web"):
        ServiceGraph.from_stack(_stack({"web": {"depends_on": _dep("web")}}))


def test_cycle_is_a_validation_error_when_consistency_is_on() -> None:
    with pytest.raises(StackValidationError, match=r"dependency cycle: .*→"):
        _stack({"a": {"depends_on": _dep("b")}, "b": {"depends_on": _dep("a")}}, consistency=True)


def test_unknown_target() -> None:
    stack = _stack({"web": {"links": ["nope"]}})
    with pytest.raises(UnknownServiceError, match='links refers to undefined service "nope"'):
        ServiceGraph.from_stack(stack)


def test_unknown_target_disabled_by_profile_has_a_hint() -> None:
    stack = _stack({"web": {"depends_on": _dep("db")}}, disabled=frozenset({"db"}))
    with pytest.raises(UnknownServiceError) as info:
        ServiceGraph.from_stack(stack)
    assert info.value.hint and "profile" in info.value.hint


def test_optional_dependency_on_absent_service_is_dropped() -> None:
    stack = _stack(
        {"web": {"depends_on": {"db": {"condition": "service_started", "required": False}}}}
    )
    assert ServiceGraph.from_stack(stack).dependencies("web") == set()


def test_unknown_service_query() -> None:
    with pytest.raises(UnknownServiceError):
        ServiceGraph.from_stack(_stack({"a": {}})).dependencies("zzz")
