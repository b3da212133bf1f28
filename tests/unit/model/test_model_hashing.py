"""config_hash: stable, blind to fields that don't change a container, sensitive to the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose.model import Service, stack_from_tree
from compose.planner.hashing import config_hash
from compose.stackfile import LoadedStack, SourceMap


def _service(spec: dict) -> Service:
    tree = {"services": {"web": {"image": "nginx:1", **spec}, "db": {"image": "pg"}}}
    loaded = LoadedStack("p", Path("/w"), (), {}, tree, SourceMap(), (), frozenset())
    return stack_from_tree(loaded, consistency=False).services["web"]


BASE = config_hash(_service({}))


def test_hash_is_sha256_hex_and_stable() -> None:
    assert len(BASE) == 64 and int(BASE, 16) >= 0
    assert config_hash(_service({})) == BASE


@pytest.mark.parametrize(
    "spec",
    [
        {"build": {"context": "/w"}},
        {"pull_policy": "always"},
        {"scale": 3},
        {"deploy": {"replicas": 4}},
        {"depends_on": {"db": {"condition": "service_started", "required": True}}},
        {"profiles": ["dev"]},
        {"x-note": "hello"},
        {"restart": "no"},
        {"stop_grace_period": "10s"},  # the default, written out
    ],
)
def test_fields_that_do_not_change_the_container(spec: dict) -> None:
    assert config_hash(_service(spec)) == BASE


@pytest.mark.parametrize(
    "spec",
    [
        {"image": "nginx:2"},
        {"environment": {"A": "1"}},
        {"ports": [{"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"}]},
        {"deploy": {"resources": {"limits": {"memory": "64m"}}}},
        {"command": ["sh", "-c", "true"]},
        {"restart": "always"},
    ],
)
def test_fields_that_change_the_container(spec: dict) -> None:
    assert config_hash(_service(spec)) != BASE


def test_image_digest_is_mixed_in() -> None:
    assert config_hash(_service({}), "sha256:abc") != BASE
    assert config_hash(_service({}), "sha256:abc") == config_hash(_service({}), "sha256:abc")
