"""What ``kube convert`` is asked to do, as one frozen value (the CLI builds it from flags)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from compose.errors import UserError

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")

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

    def __post_init__(self) -> None:
        if not _QUANTITY.match(self.volume_size):
            raise UserError(
                f'invalid volume size "{self.volume_size}" (a Kubernetes quantity like 1Gi)'
            )
