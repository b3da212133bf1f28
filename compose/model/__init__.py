"""TREE → MODEL: pydantic v2 models of a Compose stack (frozen; unknown keys are errors).

``load_stack(LoadOptions(...))`` is the entry point; ``Stack`` and its parts are the types the
planner, runtime and netplug adapters read. ``schemas/stack.schema.json`` is generated from them.
"""

from __future__ import annotations

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
