"""End-to-end fixtures: the real CLI on examples/stacks, images from a local registry, and a
teardown that proves nothing of the project leaked (processes, links, netns, mounts, cgroups,
IPAM files, nft tables)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from e2e_helpers import Cli, leaks

from tests.images.fixtures import registry, test_images  # noqa: F401

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def images_env(registry, monkeypatch):  # noqa: F811
    monkeypatch.setenv("WEB_IMAGE", registry.ref("python:3.11"))
    monkeypatch.setenv("REDIS_IMAGE", registry.ref("redis:7"))
    monkeypatch.setenv("BUSYBOX_IMAGE", registry.ref("busybox:latest"))
    monkeypatch.setenv("NGINX_IMAGE", registry.ref("nginx:1"))
    monkeypatch.setenv("POSTGRES_IMAGE", registry.ref("postgres:15"))
    return registry


@pytest.fixture
def project(images_env, isolated_dirs):
    """A unique project name; after the test: `down -v` and a leak check."""
    name = f"e2e{uuid.uuid4().hex[:8]}"
    yield name
    down = Cli(name).run("down", "-v", "-t", "1", check=False, timeout=120)
    found = leaks(
        name, Path(os.environ["PYCOMPOSE_STATE_DIR"]), Path(os.environ["PYCOMPOSE_RUN_DIR"])
    )
    assert found == [], f"leaked after down: {found}\ndown said: {down.stdout}{down.stderr}"
