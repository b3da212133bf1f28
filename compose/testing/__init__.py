"""Test environments: a Compose stack per test session (or module, or test), reachable without
published ports, reset between tests, and never left behind.

    from compose.testing import Stack              # the Python API (a context manager)
    env = stack_fixture("compose.yaml")            # in a conftest (the pytest plugin, pytest11)

``stack`` (Stack, Result), ``identity`` (one record per stack: run, worker, owner, config hash ->
project name and labels), ``sweep`` (orphans of dead owners), ``plugin`` (the pytest fixtures,
failure reports, ``--pycompose-keep``). Light: importing this package imports no pydantic, no
anyio and no kernel code; a stack needs root once it goes up.
"""

from typing import TYPE_CHECKING

from compose import lazy

if TYPE_CHECKING:
    from compose.errors import StackError
    from compose.testing.identity import StackIdentity
    from compose.testing.plugin import stack_fixture
    from compose.testing.stack import Result, Stack

_LAZY = {
    "Stack": "compose.testing.stack",
    "Result": "compose.testing.stack",
    "StackError": "compose.errors",
    "StackIdentity": "compose.testing.identity",
    "stack_fixture": "compose.testing.plugin",
}

__getattr__ = lazy.attributes(__name__, _LAZY)

__all__ = ["Result", "Stack", "StackError", "StackIdentity", "stack_fixture"]
