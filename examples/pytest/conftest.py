"""The stack for these tests: one per session and per xdist worker (``pytest -n 2`` gets two,
named apart, nothing published), torn down at the end, also if pytest is killed."""

import pytest

from compose.testing import Stack, stack_fixture

stack = stack_fixture("compose.yaml", scope="session")


@pytest.fixture(scope="session")
def seeded(stack: Stack) -> Stack:
    """The stack with the data every test starts from, kept as snapshot "seeded"."""
    stack.exec("redis", "redis-cli", "set", "greeting", "seeded").check()
    stack.snapshot("seeded")
    return stack


@pytest.fixture
def fresh(seeded: Stack) -> Stack:
    """The seeded data back before the test (redis restarted on it, ready again)."""
    seeded.restore("seeded")
    return seeded
