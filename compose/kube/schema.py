"""Offline validation against the official OpenAPI schemas of a Kubernetes version.

The schemas (JSON Schema conversions of Kubernetes' OpenAPI, strict: unknown fields are
errors) come from the PyPI package ``kubernetes-validate`` (optional extra ``kube``: it
bundles 13 minor versions, ~108 MB, which ``up`` never needs). Its ``validate()`` re-reads
the 1.4 MB definitions file on every call (~27 ms an object); here each version's
definitions and each kind's schema are read once and a validator is kept per kind, so a
stack's worth of objects validates in milliseconds. The version picked is the newest
bundled one not newer than the one asked for, as ``kubernetes-validate`` does.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any

from compose.errors import UserError
from compose.kube.objects import Manifest

INSTALL_HINT = "install the schemas: pip install 'pycompose[kube]' (kubernetes-validate)"


def schema_problems(objects: Iterable[Manifest], version: str | None = None) -> list[str]:
    chosen = schema_version(version)
    problems = []
    for obj in objects:
        validator = _validator(chosen, obj["kind"], obj["apiVersion"])
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in error.absolute_path) or "(top)"
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {where}: {error.message}")
    return problems


def _versions() -> list[tuple[int, int]]:
    try:
        from kubernetes_validate.utils import all_versions
    except ImportError:
        raise UserError(
            "--check needs the Kubernetes schemas, which are not installed", hint=INSTALL_HINT
        ) from None
    return sorted({_minor(v) for v in all_versions()})


def _minor(text: str) -> tuple[int, int]:
    match = re.match(r"^v?(\d+)\.(\d+)", text)
    if match is None:
        raise UserError(f'"{text}" is not a Kubernetes version (expected X.Y, e.g. 1.33)')
    return int(match[1]), int(match[2])


def schema_version(version: str | None) -> str:
    """``X.Y.0`` of the bundled schema used for ``version`` (None: the newest)."""
    known = _versions()
    wanted = _minor(version) if version else known[-1]
    usable = [v for v in known if v <= wanted]
    if not usable or wanted > known[-1]:
        first, last = known[0], known[-1]
        raise UserError(
            f"no schema for Kubernetes {version}: "
            f"the installed ones are {first[0]}.{first[1]} to {last[0]}.{last[1]}"
        )
    major, minor = usable[-1]
    return f"{major}.{minor}.0"


def _schema_root(version: str) -> Any:
    from importlib.resources import files

    return files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}-local-strict"


@functools.cache
def _definitions(version: str) -> Any:
    from referencing import Resource

    text = (_schema_root(version) / "_definitions.json").read_text()
    return Resource.from_contents(json.loads(text))


@functools.cache
def _validator(version: str, kind: str, api_version: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # apps/v1 → apps-v1
    path = _schema_root(version) / f"{kind.lower()}-{group}.json"
    try:
        schema = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"no schema for {kind} {api_version} in Kubernetes {version}") from None
    registry: Registry[Any] = Registry().with_resources(
        [
            (schema["$id"], Resource.from_contents(schema)),
            (_definitions(version).id(), _definitions(version)),
        ]
    )
    return Draft202012Validator(schema, registry=registry)
