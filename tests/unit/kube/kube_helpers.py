"""Convert a stack written in a test, the way the CLI does (same loader, real files)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from compose.kube import Conversion, Facts, KubeOptions, convert, gather
from compose.model import Stack, load_stack
from compose.stackfile import LoadOptions

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared/corpus"
AWESOME = CORPUS / "awesome-compose"
ENV = {"HOME": "/root", "PATH": "/usr/bin:/bin"}


def write_stack(tmp_path: Path, text: str, files: dict[str, str | bytes] | None = None) -> Path:
    for name, content in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    stack_file = tmp_path / "compose.yaml"
    stack_file.write_text(textwrap.dedent(text))
    return stack_file


def load(stack_file: Path, **load: Any) -> Stack:
    options = LoadOptions(files=(str(stack_file),), environ=ENV, cwd=stack_file.parent, **load)
    return load_stack(options)


def convert_stack(
    tmp_path: Path,
    text: str,
    files: dict[str, str | bytes] | None = None,
    facts: Facts | None = None,
    services: tuple[str, ...] = (),
    **options: Any,
) -> Conversion:
    stack = load(write_stack(tmp_path, text, files))
    return convert(stack, KubeOptions(**options), facts or gather(stack), services)


def objects(conversion: Conversion, kind: str) -> list[dict[str, Any]]:
    return [o for o in conversion.objects if o["kind"] == kind]


def one(conversion: Conversion, kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects(conversion, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, (
        f"{kind}/{name} in {[(o['kind'], o['metadata']['name']) for o in conversion.objects]}"
    )
    return found[0]


def pod(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def main_container(workload: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = pod(workload)["containers"][0]
    return container


def warnings_about(conversion: Conversion, text: str) -> list[str]:
    return [w for w in conversion.warnings if text in w]


def stack_files() -> list[Path]:
    return sorted(
        p
        for d in AWESOME.iterdir()
        for p in d.iterdir()
        if p.name in ("compose.yaml", "compose.yml")
    )
