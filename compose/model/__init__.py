"""TREE → MODEL: pydantic v2 models of a Compose stack (frozen; unknown keys are errors).

``load_stack(LoadOptions(...))`` is the entry point; ``Stack`` and its parts are the types the
planner, runtime and netplug adapters read. ``schemas/stack.schema.json`` is generated from them.

The names below are imported on first use (PEP 562): building the model classes costs ~100 ms,
which a submodule that needs none of them (``memo``, ``yamlout``) should not pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compose.model.deploy import Deploy, Resource, Resources, RestartPolicy
    from compose.model.load import load_stack, stack_from_tree
    from compose.model.parts import (
        BuildSpec,
        DependsOn,
        EnvFile,
        FileReference,
        Healthcheck,
        Logging,
        Mount,
        PortMapping,
        ServiceNetwork,
        ServiceVolume,
        Ulimit,
    )
    from compose.model.resources import Config, Ipam, IpamPool, Network, Secret, Volume
    from compose.model.service import RestartSpec, Service
    from compose.model.stack import Stack

_HOME = {
    **dict.fromkeys(("Deploy", "Resource", "Resources", "RestartPolicy"), "deploy"),
    **dict.fromkeys(("load_stack", "stack_from_tree"), "load"),
    **dict.fromkeys(
        (
            "BuildSpec",
            "DependsOn",
            "EnvFile",
            "FileReference",
            "Healthcheck",
            "Logging",
            "Mount",
            "PortMapping",
            "ServiceNetwork",
            "ServiceVolume",
            "Ulimit",
        ),
        "parts",
    ),
    **dict.fromkeys(("Config", "Ipam", "IpamPool", "Network", "Secret", "Volume"), "resources"),
    **dict.fromkeys(("RestartSpec", "Service"), "service"),
    "Stack": "stack",
}
__all__ = [
    "BuildSpec",
    "Config",
    "DependsOn",
    "Deploy",
    "EnvFile",
    "FileReference",
    "Healthcheck",
    "Ipam",
    "IpamPool",
    "Logging",
    "Mount",
    "Network",
    "PortMapping",
    "Resource",
    "Resources",
    "RestartPolicy",
    "RestartSpec",
    "Secret",
    "Service",
    "ServiceNetwork",
    "ServiceVolume",
    "Stack",
    "Ulimit",
    "Volume",
    "load_stack",
    "stack_from_tree",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
