"""YAML layer: yaml.v3 scalar rules, marks, duplicate keys, merge keys, !reset / !override."""

from __future__ import annotations

import math

import pytest

from compose.errors import StackSyntaxError
from compose.stackfile.types import Mark
from compose.stackfile.yamlio import parse_yaml, resolve_plain


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0440", 0o440),
        ("0o17", 15),
        ("0x1F", 31),
        ("1_000", 1000),
        ("-3", -3),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("yes", "yes"),
        ("on", "on"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("80:80", "80:80"),
        ("08", 8.0),
        ("1.2.3", "1.2.3"),
    ],
)
def test_stackfile_yaml_plain_scalars_like_go(text: str, value: object) -> None:
    got = resolve_plain(text)
    assert got == value and type(got) is type(value)


def test_stackfile_yaml_inf() -> None:
    assert resolve_plain(".inf") == math.inf


def test_stackfile_yaml_quoted_and_tagged_stay_strings() -> None:
    tree = parse_yaml("a: '0440'\nb: !!str 12\nc: \"true\"\n", "f.yml").tree
    assert tree == {"a": "0440", "b": "12", "c": "true"}


def test_stackfile_yaml_marks_per_key_and_item() -> None:
    parsed = parse_yaml("services:\n  web:\n    ports:\n      - 80\n      - '81'\n", "c.yml")
    sm = parsed.source_map
    assert sm.locate(("services", "web")) == Mark("c.yml", 2, 3)
    assert sm.locate(("services", "web", "ports", 1)) == Mark("c.yml", 5, 9)
    assert str(sm.locate(("services", "web", "ports", 1, "deeper"))) == "c.yml:5:9"
    assert sm.locate(("nothing",)) is None


def test_stackfile_yaml_duplicate_key_is_an_error_with_location() -> None:
    first = r"\(first at line 2\)"
    with pytest.raises(StackSyntaxError, match=rf'^c.yml:3:3: duplicate key "web" {first}$'):
        parse_yaml("services:\n  web: {}\n  web: {}\n", "c.yml")


def test_stackfile_yaml_anchors_aliases_and_merge_keys() -> None:
    text = """
x-base: &base
  image: busybox
  environment: &env {A: "1", B: "2"}
services:
  one:
    <<: *base
    environment:
      <<: *env
      B: "3"
  two:
    <<: [*base]
    image: alpine
"""
    tree = parse_yaml(text, "f.yml").tree
    assert tree["services"]["one"] == {"image": "busybox", "environment": {"A": "1", "B": "3"}}
    assert tree["services"]["two"]["image"] == "alpine"


def test_stackfile_yaml_reset_and_override_tags_are_recorded() -> None:
    parsed = parse_yaml("services:\n  a:\n    ports: !reset []\n    env: !override {X: 1}\n", "f")
    assert parsed.resets == {("services", "a", "ports")}
    assert parsed.overrides == {("services", "a", "env")}
    assert parsed.tree["services"]["a"] == {"ports": [], "env": {"X": 1}}


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("- a\n- b\n", r"^f.yml:1:1: top-level object must be a mapping"),
        ("", r"^f.yml:1:1: empty compose file"),
        ("a: [\n", r"^f.yml:\d+:\d+: "),
        ("a:\n\tb: 1\n", r"^f.yml:2:1: .*'\\t'"),
        ("a: *nope\n", r"^f.yml:1:4: .*undefined alias"),
        ("a: {b: 1\n", r"^f.yml:\d+:\d+: "),
        ("a: 'x\n", r"^f.yml:\d+:\d+: "),
        ("? [a]\n: 1\n", r"^f.yml:1:3: mapping keys must be scalars"),
        ("<<: 3\n", r"^f.yml:1:5: merge key"),
    ],
)
def test_stackfile_yaml_errors_carry_location(text: str, pattern: str) -> None:
    with pytest.raises(StackSyntaxError, match=pattern):
        parse_yaml(text, "f.yml")


def test_stackfile_yaml_billion_laughs_is_bounded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(StackSyntaxError, match="alias expansion limit"):
        parse_yaml("\n".join(lines) + "\n", "f.yml")


@pytest.mark.parametrize(
    "text",
    [
        "x-healthcheck: &healthcheck\n  egress-service:\n    <<: *healthcheck\n",
        "a: &x [*x]\n",
        "a: " + "[" * 450 + "]" * 450 + "\n",
        "a: " + "[" * 3000 + "]" * 3000 + "\n",
    ],
)
def test_stackfile_yaml_recursive_anchor_or_deep_nesting_is_an_error(text: str) -> None:
    with pytest.raises(StackSyntaxError, match=r"^f.yml:\d+:\d+: "):
        parse_yaml(text, "f.yml")


def test_stackfile_yaml_reused_anchor_is_not_a_cycle() -> None:
    text = "services:\n  a: &a\n    image: alpine\n  a2: *a\n"
    assert parse_yaml(text, "f.yml").tree["services"]["a2"] == {"image": "alpine"}


def test_stackfile_yaml_documents_merge_like_files() -> None:
    text = "services:\n  a: {image: x, ports: ['80:80']}\n---\n"
    text += "services:\n  a: {image: y}\n  b: {}\n"
    tree = parse_yaml(text, "f.yml").tree
    assert tree["services"] == {"a": {"image": "y", "ports": ["80:80"]}, "b": {}}
