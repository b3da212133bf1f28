"""Manifests as plain data, their metadata and labels, and the order they are written in.

Every object carries ``app.kubernetes.io/{name,part-of,managed-by}``; workload selectors use
only ``name`` + ``part-of`` (selectors are immutable, and ``managed-by`` is ours to change).
Compose ``labels`` are free text, so they become annotations, never selectors.
"""

from __future__ import annotations

from typing import Any

from compose.kube.names import label_value

Manifest = dict[str, Any]

NAME = "app.kubernetes.io/name"
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY = "app.kubernetes.io/managed-by"
TOOL = "pycompose"
ANNOTATION_PREFIX = "pycompose.io/"
COMPOSE_NAME = ANNOTATION_PREFIX + "compose-name"
DEPENDS_ON = ANNOTATION_PREFIX + "depends-on"
PLACEHOLDER_PORT = ANNOTATION_PREFIX + "placeholder-port"
NETWORK_LABEL_PREFIX = "network.pycompose.io/"

API_VERSIONS = {
    "ConfigMap": "v1",
    "Secret": "v1",
    "PersistentVolumeClaim": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
}
# the order of the output: what pods mount and dial exists before the pods
KIND_ORDER = tuple(API_VERSIONS)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def selector(project: str, name: str) -> dict[str, str]:
    return {NAME: name, PART_OF: label_value(project)}


def labels(project: str, name: str) -> dict[str, str]:
    return {**selector(project, name), MANAGED_BY: TOOL}


def manifest(
    kind: str,
    name: str,
    project: str,
    *,
    namespace: str | None = None,
    annotations: dict[str, str] | None = None,
    label_name: str | None = None,
    **body: Any,
) -> Manifest:
    """``{apiVersion, kind, metadata, **body}``; ``label_name`` defaults to ``name``."""
    metadata: Manifest = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    metadata["labels"] = labels(project, label_name or name)
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    return {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": metadata, **body}


def sort_key(obj: Manifest) -> tuple[int, str]:
    return KIND_ORDER.index(obj["kind"]), obj["metadata"]["name"]


def ref(obj: Manifest) -> tuple[str, str]:
    """(kind, name): how checks and the kustomization name an object."""
    return obj["kind"], obj["metadata"]["name"]
