"""The model reproduces docker compose's printed form: compose-go's full-example expected model,
fed to the model as a tree, renders back byte for byte (YAML) and structurally (JSON)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compose.model import Stack, stack_from_tree
from compose.model.render import render_stack
from compose.stackfile import LoadedStack, SourceMap

FULL = Path(__file__).resolve().parents[3].parent / "shared/corpus/compose-go/full-example"


def _loaded(tree: dict) -> LoadedStack:
    tree = dict(tree)
    name = tree.pop("name", "proj")
    return LoadedStack(
        name=name,
        working_dir=Path("/WORKDIR"),
        files=(),
        environment={},
        tree=tree,
        source_map=SourceMap(),
        warnings=(),
        disabled_services=frozenset(),
    )


@pytest.fixture(scope="module")
def full_stack() -> Stack:
    tree = YAML(typ="safe").load((FULL / "full-example.expected.yaml").read_text())
    return stack_from_tree(_loaded(tree), consistency=False)


def test_yaml_roundtrip_is_byte_identical(full_stack: Stack) -> None:
    assert render_stack(full_stack) == (FULL / "full-example.expected.yaml").read_text()


def test_json_roundtrip_matches_compose_marshal_json(full_stack: Stack) -> None:
    expected = json.loads((FULL / "full-example.expected.json").read_text())
    assert json.loads(render_stack(full_stack, "json")) == expected


def test_values_are_parsed(full_stack: Stack) -> None:
    foo = full_stack.services["foo"]
    assert foo.name == "foo"
    assert foo.healthcheck is not None and foo.healthcheck.interval == 10.0
    assert foo.healthcheck.timeout == 1.0 and foo.healthcheck.retries == 5
    assert foo.deploy is not None and foo.deploy.resources is not None
    assert foo.deploy.resources.limits is not None
    assert foo.deploy.resources.limits.memory == 50 * 1024 * 1024
    assert foo.stop_grace_period == 20.0
    assert foo.replicas == 6
    assert foo.restart_policy.name == "on-failure" and foo.restart_policy.max_retries == 3
    assert foo.restart_policy.window == 120.0
    assert foo.ulimits["nproc"].limits == (65535, 65535)
    assert foo.ulimits["nofile"].limits == (20000, 40000)
    assert foo.secrets[1].mode == 0o440
    assert foo.volumes[7].tmpfs is not None and foo.volumes[7].tmpfs.size == 10000
    assert full_stack.extensions == {
        "x-bar": "baz",
        "x-foo": "bar",
        "x-nested": {"bar": "baz", "foo": "bar"},
    }
    assert foo.extensions == {"x-bar": "baz", "x-foo": "bar"}


def test_unsupported_keys_warn_never_silently(full_stack: Stack) -> None:
    assert "services.foo.uts: not supported by pycompose, ignored" in full_stack.warnings
    assert (
        "services.foo.deploy.placement: not supported by pycompose, ignored" in full_stack.warnings
    )
    assert not any(".ports" in w or ".healthcheck" in w for w in full_stack.warnings)


def test_defaults_follow_docker() -> None:
    stack = stack_from_tree(
        _loaded({"services": {"web": {"image": "x", "healthcheck": {"test": ["CMD", "true"]}}}})
    )
    web = stack.services["web"]
    hc = web.healthcheck
    assert hc is not None
    assert (hc.interval, hc.timeout, hc.retries, hc.start_period, hc.start_interval) == (
        30,
        30,
        3,
        0,
        5,
    )
    assert web.replicas == 1 and web.restart_policy.name == "no"
    assert web.stop_grace_period == 10.0 and web.stop_signal is None  # the image decides


def test_restart_string_policy() -> None:
    stack = stack_from_tree(_loaded({"services": {"w": {"image": "x", "restart": "on-failure:5"}}}))
    assert stack.services["w"].restart_policy.name == "on-failure"
    assert stack.services["w"].restart_policy.max_retries == 5


def test_deploy_restart_policy_overrides_restart() -> None:
    tree = {
        "services": {
            "w": {
                "image": "x",
                "restart": "always",
                "deploy": {"restart_policy": {"condition": "none"}},
            }
        }
    }
    assert stack_from_tree(_loaded(tree)).services["w"].restart_policy.name == "no"


def test_model_is_frozen(full_stack: Stack) -> None:
    with pytest.raises(Exception, match="frozen"):
        full_stack.services["foo"].image = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ({"ports": [{"target": 80, "published": "80-70"}]}, 'invalid published port "80-70"'),
        ({"ports": [{"target": 80, "published": "99999"}]}, "ports end at 65535"),
        ({"ports": [{"target": 70000}]}, "ports[0].target"),
        ({"volumes": [{"type": "bind", "target": "/x"}]}, 'bind mount at "/x" needs a source'),
        ({"healthcheck": {"test": ["curl", "x"]}}, "must start with NONE, CMD or CMD-SHELL"),
        ({"healthcheck": {"test": ["CMD"]}}, "needs a command"),
        ({"deploy": {"replicas": -1}}, "deploy.replicas"),
        ({"secrets": [{"source": "s", "mode": "999"}]}, 'invalid file mode "999"'),
    ],
)
def test_semantic_checks(service: dict, message: str) -> None:
    from compose.errors import StackValidationError

    with pytest.raises(StackValidationError, match=re.escape(message)):
        stack_from_tree(
            _loaded({"services": {"web": {"image": "x", **service}}}), consistency=False
        )


def test_invalid_service_name() -> None:
    from compose.errors import StackValidationError

    with pytest.raises(StackValidationError, match='invalid service name "we b"'):
        stack_from_tree(_loaded({"services": {"we b": {"image": "x"}}}))
