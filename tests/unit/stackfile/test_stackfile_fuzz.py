"""Property tests: random and mutated stack files either load or raise a located UserError.

Never another exception, never a hang (hypothesis deadline + pytest timeout).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from compose.errors import UserError
from compose.stackfile import LoadOptions, load_stack_tree

CORPUS = Path("/work/shared/corpus")
SEEDS = [
    (CORPUS / "compose-go/full-example/full-example.yml").read_text(),
    *(p.read_text() for p in sorted((CORPUS / "awesome-compose").glob("*/compose.y*ml"))[:12]),
    "services:\n  a:\n    extends: b\n  b:\n    image: x\n    profiles: [p]\n"
    "    depends_on: {a: {condition: service_started}}\n",
]
LOCATED = re.compile(r"<stdin>:\d+:\d+: ")
SETTINGS = settings(
    max_examples=150,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
pytestmark = pytest.mark.timeout(120)


def _check(text: str, tmp: Path) -> None:
    opts = LoadOptions(files=("-",), stdin=text, cwd=tmp, environ={"HOME": "/h", "X": "1"})
    try:
        load_stack_tree(opts)
    except UserError as exc:
        assert LOCATED.match(str(exc)), f"no location in: {exc}"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "dupline", "indent"]))
        if kind == "insert":
            chunk = draw(st.text(alphabet=":-[]{}$&*!\t\n '\"#|>?%@`,~0x", max_size=4))
            text = text[:pos] + chunk + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 12)) :]
        else:
            lines = text.splitlines(keepends=True) or [""]
            i = draw(st.integers(0, len(lines) - 1))
            extra = lines[i] if kind == "dupline" else "  " + lines[i]
            lines.insert(i, extra) if kind == "dupline" else lines.__setitem__(i, extra)
            text = "".join(lines)
    return text


KEYS = st.sampled_from(
    ["services", "web", "image", "ports", "volumes", "environment", "depends_on", "networks",
     "extends", "profiles", "build", "command", "healthcheck", "test", "env_file", "include",
     "secrets", "configs", "name", "deploy", "logging", "x-a", "labels", "service", "file",
     "driver", "external", "target", "source", "condition", "required", "links", "path"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False),
    st.sampled_from(["80:80", "./a:/b", "${X}", "${Y:?e}", "$$", "web", "a:b:c", "[::1]:1:1",
                     "1-3:4-6", "~/x", "/abs", "${", "p", "service:web", "1m30s", "50M"]),
    st.text(max_size=8),
)  # fmt: skip
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=30,
)


@SETTINGS
@given(text=st.text(max_size=200))
def test_stackfile_fuzz_random_text(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    _check(text, tmp_path_factory.getbasetemp())


@SETTINGS
@given(text=mutated())
def test_stackfile_fuzz_mutated_yaml(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    _check(text, tmp_path_factory.getbasetemp())


@SETTINGS
@given(tree=st.dictionaries(KEYS, TREES, max_size=5))
def test_stackfile_fuzz_random_structures(
    tree: dict, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _check(json.dumps(tree), tmp_path_factory.getbasetemp())


@SETTINGS
@given(services=st.dictionaries(KEYS, st.dictionaries(KEYS, TREES, max_size=6), max_size=3))
def test_stackfile_fuzz_random_services(
    services: dict, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _check(json.dumps({"services": services}), tmp_path_factory.getbasetemp())


def _check_files(files: dict[str, str], tmp: Path) -> None:
    for name, text in files.items():
        (tmp / name).write_text(text)
    opts = LoadOptions(files=("a.yml", "b.yml"), cwd=tmp, environ={"HOME": "/h"})
    try:
        load_stack_tree(opts)
    except UserError as exc:
        assert re.match(r"\S+:\d+:\d+: ", str(exc)), f"no location in: {exc}"


@SETTINGS
@given(
    a=st.dictionaries(KEYS, st.dictionaries(KEYS, TREES, max_size=4), max_size=3),
    b=st.dictionaries(KEYS, st.dictionaries(KEYS, TREES, max_size=4), max_size=3),
)
def test_stackfile_fuzz_merged_files(
    a: dict, b: dict, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("merge")
    files = {"a.yml": json.dumps({"services": a}), "b.yml": json.dumps({"services": b, **a})}
    _check_files(files, tmp)
