"""Random trees through the model: a Stack or a StackValidationError, never another exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from compose.errors import StackValidationError
from compose.model import stack_from_tree
from compose.model.service import Service
from compose.stackfile import LoadedStack, Mark, SourceMap

EXTRA = """target published type source condition soft hard interval test replicas resources
    limits memory cpus restart_policy aliases x-ext bogus""".split()
KEYS = [*sorted(Service.model_fields), *EXTRA]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.floats(allow_nan=False),
    st.sampled_from(["80:80", "1m30s", "512m", "service:db", "0440", "", "no", "always", "tcp"]),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
services = st.dictionaries(
    st.sampled_from(["web", "db", "cache"]),
    st.dictionaries(st.sampled_from(KEYS), values, max_size=5),
    max_size=3,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(services=services, consistency=st.booleans())
def test_random_trees_never_crash(services: dict, consistency: bool) -> None:
    marks = SourceMap({("services",): Mark("compose.yaml", 1, 1)})
    loaded = LoadedStack("p", Path("/w"), (), {}, {"services": services}, marks, (), frozenset())
    try:
        stack = stack_from_tree(loaded, consistency=consistency)
    except StackValidationError as exc:
        assert exc.problems and all(line.startswith("compose.yaml:") for line in exc.problems)
    else:
        assert set(stack.services) == set(services)
