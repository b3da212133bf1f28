"""compose.order: the one topological sort (start order; its reverse is the stop order)."""

from __future__ import annotations

from compose.order import flat, generations


def test_generations_put_dependencies_first_sorted_within_each() -> None:
    needs = {"web": ["db", "cache"], "cache": ["db"], "db": [], "side": []}
    assert generations(needs) == [["db", "side"], ["cache"], ["web"]]
    assert flat(needs) == ["db", "side", "cache", "web"]


def test_needs_outside_the_mapping_are_ignored() -> None:
    assert generations({"web": ["gone"], "db": []}) == [["db", "web"]]


def test_a_cycle_in_hand_edited_records_is_broken_at_its_smallest_name() -> None:
    assert flat({"b": ["a"], "a": ["b"], "c": ["a"]}) == ["a", "b", "c"]
