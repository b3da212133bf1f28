"""Package attributes that load on first use (a package ``__init__`` stays cheap to import:
the CLI's start-up path reaches ``compose.planner.UpOptions`` without the planner proper).

    __getattr__ = lazy.attributes(__name__, {"Supervisor": "core", "LinuxRuntime": "launcher"})

A module name without dots is relative to the package. The names are imported under
``TYPE_CHECKING`` as well, for the type checker.

``module(name)`` stands for a module that a caller uses as ``p.Name`` on a path that is not the
start-up one (the module is imported at the first attribute read)::

    if TYPE_CHECKING:
        from compose.supervisor import protocol as p
    else:
        p = lazy.module("compose.supervisor.protocol")
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable, Mapping
from typing import Any


def attributes(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        full = module if "." in module else f"{package}.{module}"
        return getattr(importlib.import_module(full), name)

    return __getattr__


class _Module(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)


def module(name: str) -> types.ModuleType:
    return _Module(name)
