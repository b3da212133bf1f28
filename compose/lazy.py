"""Package attributes that load on first use (a package ``__init__`` stays cheap to import:
the CLI's start-up path reaches ``compose.planner.UpOptions`` without the planner proper).

    __getattr__ = lazy.attributes(__name__, {"Supervisor": "core", "LinuxRuntime": "launcher"})

A module name without dots is relative to the package. The names are imported under
``TYPE_CHECKING`` as well, for the type checker.
"""

from __future__ import annotations

import importlib
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
