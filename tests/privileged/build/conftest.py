"""Fixtures for the builder's privileged tests: the test busybox image pulled once per session
from the local registry, hard-linked into each test's own image store, and a ``build`` helper
that writes a context, builds it and returns the image with a view of its root filesystem."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compose.build.executor import Builder
from compose.build.request import BuildRequest, BuildResult
from compose.build.rootview import RootView
from compose.images.model import Image
from compose.images.store import ImageStore
from tests.images.fixtures import registry, test_images  # noqa: F401

pytestmark = [pytest.mark.privileged, pytest.mark.registry]


@pytest.fixture(scope="session")
def busybox_store(registry, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:  # noqa: F811
    from compose.images import pull

    root = tmp_path_factory.mktemp("busybox-store")
    ref = registry.ref("busybox:latest")
    pull(ref, store=ImageStore(root))
    return root, ref


@pytest.fixture
def store(busybox_store: tuple[Path, str]) -> ImageStore:
    """This test's image store (under its state dir), holding the busybox image."""
    source, _ref = busybox_store
    target = Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "images"
    shutil.copytree(source, target, copy_function=os.link, symlinks=True)
    return ImageStore(target)


@dataclass
class Built:
    result: BuildResult
    image: Image
    config: dict[str, Any]
    root: RootView

    def read(self, path: str) -> str:
        return self.root.read_text(path)

    def stat(self, path: str) -> os.stat_result | None:
        found = self.root.lstat(path)
        return found[1] if found else None


@pytest.fixture
def build(
    store: ImageStore, busybox_store: tuple[Path, str], tmp_path: Path
) -> Iterator[Callable[..., Built]]:
    """``build(dockerfile, files={path: text}, **BuildRequest fields) -> Built``; FROM BUSYBOX
    in the Dockerfile is the test image."""
    builders: list[Builder] = []

    def run(dockerfile: str, files: dict[str, str] | None = None, **fields: Any) -> Built:
        context = tmp_path / "ctx"
        context.mkdir(exist_ok=True)
        for rel, text in (files or {}).items():
            path = context / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        (context / "Dockerfile").write_text(dockerfile.replace("BUSYBOX", busybox_store[1]))
        builder = fields.pop("builder", None) or Builder(store)
        builders.append(builder)
        fields.setdefault("tags", ("built:latest",))
        result = builder.build(BuildRequest(context=context, **fields))
        image = store.resolve(result.tags[0])
        config = store.read_json(image.config_digest)
        return Built(result, image, config, RootView(list(image.layers)))

    yield run
    for builder in builders:
        builder.close()
    leftovers = list(store.tmp.iterdir()) if store.tmp.is_dir() else []
    assert [p.name for p in leftovers if p.name != "empty-layer"] == [], "temporary files left"
