"""What the machine's owners share: the project, the stack it runs (None: acting from the
records alone, e.g. ``down`` without the file), the images of its services, its records and the
runtime. ``use`` is the one writer of the stack and images (a reload by ``up -d``, a ``scale``
pulling an image)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from compose import paths
from compose.errors import ContainerError
from compose.state import ReplicaRecord, StateStore, container_name, layout
from netplug import NetworkConfig

if TYPE_CHECKING:
    from compose.images import Image
    from compose.model import Service, Stack
    from compose.runtime import Runtime


@dataclass
class Context:
    project: str
    runtime: Runtime
    stack: Stack | None = None
    images: dict[str, Image] = field(default_factory=dict)
    store: StateStore = field(init=False)
    ipam_root: Path = field(default_factory=paths.ipam_dir)
    # persist (tracker changes, on the loop thread) reads then rewrites a record; a removal
    # (worker thread) deletes it: between the two a late exit would bring it back
    records_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.store = StateStore(self.project)

    def use(self, stack: Stack | None, images: Mapping[str, Image] | None = None) -> None:
        """The stack to run from now on (a reload), and images pulled for it."""
        self.stack = stack
        self.images.update(images or {})

    def service(self, name: str) -> Service:
        if self.stack is None or name not in self.stack.services:
            raise ContainerError(f'service "{name}": not in the stack file')
        return self.stack.services[name]

    def image_for(self, service: str) -> Image | None:
        """The service's image: pulled for this run, else whatever the local store has."""
        if service not in self.images and self.stack is not None:
            from compose.images import ImageStore

            ref = self.stack.services[service].image_name(self.project)
            store = ImageStore()
            if store.has(ref):
                self.images[service] = store.resolve(ref)
        return self.images.get(service)

    @staticmethod
    def local_images(stack: Stack) -> dict[str, Image]:
        """The services' images already in the local store (no pull, no network)."""
        from compose.images import ImageStore

        refs = {name: svc.image_name(stack.name) for name, svc in stack.services.items()}
        return ImageStore().available(refs)

    def name_of(self, service: str, index: int) -> str:
        svc = self.stack.services.get(service) if self.stack is not None else None
        return container_name(self.project, service, index, svc.container_name if svc else None)

    def record(self, name: str) -> ReplicaRecord:
        record = self.store.load_replica(name)
        if record is None:
            raise ContainerError(f'container "{name}": no such replica')
        return record

    def network_config(self, key: str) -> NetworkConfig:
        """netplug's view of one compose network (its IPAM pools, IPv6, internal or not)."""
        from compose.supervisor.machine.netconfig import network_config

        spec = self.stack.networks.get(key) if self.stack is not None else None
        return network_config(self.project, key, spec)

    def log_path(self, name: str) -> Path:
        return layout.log_path(self.project, name)

    def replica_dir(self, name: str) -> Path:
        return layout.replica_dir(self.project, name)
