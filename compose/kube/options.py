"""What ``kube convert`` is asked to do, as one frozen value (the CLI builds it from flags)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Publish = Literal["NodePort", "LoadBalancer"]


@dataclass(frozen=True)
class KubeOptions:
    namespace: str | None = None  # metadata.namespace on every object (kustomization too)
    publish: Publish | None = None  # published ports → an extra Service of this type
    stateful: bool = False  # services owning their named volumes → StatefulSets
    wait_init: str | None = None  # image of the depends_on wait initContainers
    network_policies: bool = False  # networks → NetworkPolicies
    volume_size: str = "1Gi"  # storage request of each PVC
    strict: bool = False  # any warning is an error
