"""Manifests → text: one multi-document YAML stream, or a directory for ``kubectl apply -k``.

YAML comes from the project's small block-style writer (``compose.model.yamlout``): strings
that a YAML 1.1 reader (Kubernetes' sigs.k8s.io/yaml) would read as something else are
quoted, multi-line data is a literal block, and the output is byte-for-byte deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from compose import paths
from compose.errors import UserError
from compose.kube.objects import Manifest
from compose.model.yamlout import dump

KUSTOMIZATION = "kustomization.yaml"


def render_stream(objects: Iterable[Manifest]) -> str:
    return "".join(f"---\n{dump(obj)}" for obj in objects)


def file_name(obj: Manifest) -> str:
    return f"{obj['metadata']['name']}-{obj['kind'].lower()}.yaml"


def kustomization(objects: Iterable[Manifest], namespace: str | None) -> Manifest:
    data: Manifest = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    if namespace:
        data["namespace"] = namespace
    data["resources"] = [file_name(obj) for obj in objects]
    return data


def write_directory(
    directory: Path, objects: tuple[Manifest, ...], namespace: str | None
) -> list[Path]:
    """One file per object plus ``kustomization.yaml``; returns the files written."""
    files = {file_name(obj): dump(obj) for obj in objects}
    files[KUSTOMIZATION] = dump(kustomization(objects, namespace))
    written = []
    try:
        with paths.users_umask():  # the user's files: the user's umask, not the private one
            directory.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                path = directory / name
                path.write_text(text, encoding="utf-8")
                written.append(path)
    except OSError as exc:
        raise UserError(f"{directory}: cannot write the manifests: {exc.strerror or exc}") from None
    return written
