"""pytest fixtures: the test images and real local registries serving them.

Use them from any test directory by importing them into that directory's conftest.py::

    from tests.images.fixtures import (  # noqa: F401
        auth_registry, registry, test_images, token_registry,
    )

``test_images`` (session): Path of the build cache (``<cache>/oci`` is an OCI layout,
``<cache>/busybox-save.tar`` a docker save archive). ``registry`` / ``auth_registry`` (session):
a ``tests.images.registry.Server`` (``.host`` = ``127.0.0.1:PORT``, ``.ref("redis:7")``,
``.creds``) on a free port with temp storage; stopped at the end of the session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.images import build, registry as reg

CACHE_ENV = "PYCOMPOSE_TEST_IMAGES"  # optional: another cache dir for the built images


def _require_tools() -> None:
    missing = [t for t in ("docker-registry", "dpkg-deb", "apt-get") if not shutil.which(t)]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)} (run .ci/setup)")


@pytest.fixture(scope="session")
def test_images() -> Path:
    _require_tools()
    cache = Path(os.environ[CACHE_ENV]) if os.environ.get(CACHE_ENV) else None
    return build.build(cache, log=False)


def _serve(images: Path, tmp: Path, auth: bool) -> Iterator[reg.Server]:
    server = reg.serve(reg.free_port(), tmp, cache=images, auth=auth, log=False)
    try:
        yield server
    finally:
        reg.stop(tmp)


@pytest.fixture(scope="session")
def registry(test_images: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[reg.Server]:
    yield from _serve(test_images, tmp_path_factory.mktemp("registry"), auth=False)


@pytest.fixture(scope="session")
def auth_registry(
    test_images: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[reg.Server]:
    yield from _serve(test_images, tmp_path_factory.mktemp("auth-registry"), auth=True)


@pytest.fixture(scope="session")
def token_registry(test_images: Path, tmp_path_factory: pytest.TempPathFactory):
    """(Server, TokenServer): docker-registry with bearer-token auth, like Docker Hub."""
    from tests.images.tokenauth import TokenServer

    if not shutil.which("openssl"):
        pytest.skip("openssl missing (ca-certificates brings it)")
    tmp = tmp_path_factory.mktemp("token-registry")
    tokens = TokenServer(tmp)
    server = reg.serve(
        reg.free_port(), tmp, cache=test_images, log=False, token_auth=tokens.registry_config()
    )
    try:
        yield server, tokens
    finally:
        reg.stop(tmp)
        tokens.close()
