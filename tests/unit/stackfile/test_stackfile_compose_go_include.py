"""Mirrors of compose-go loader/include_test.go, run on the shared testdata."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from stackfile_helpers import load

TESTDATA = Path("/work/shared/corpus/compose-go/loader/testdata")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(TESTDATA, tmp_path / "testdata")
    return tmp_path


def test_stackfile_cg_include_same_service_twice(root: Path) -> None:
    text = """
        name: test-multi-include
        include:
          - path: ./testdata/subdir/compose-test-extends-imported.yaml
            env_file: ./testdata/subdir/extra.env
          - path: ./testdata/compose-include.yaml
        services:
          foo: {image: busybox, depends_on: [imported]}
    """
    stack = load(root, {"compose.yaml": text}, environ={"SOURCE": "override"}, normalize=False)
    assert stack.tree["services"]["imported"]["container_name"] == "override"


def test_stackfile_cg_include_local_definition_wins(root: Path) -> None:
    text = """
        name: test-multi-include
        include:
          - path: ./testdata/subdir/compose-test-extends-imported.yaml
            env_file: ./testdata/subdir/extra.env
          - path: ./testdata/compose-include.yaml
            env_file: ./testdata/subdir/extra.env
        services:
          bar:
            image: busybox
            environment: !override
              - ZOT=QIX
    """
    stack = load(root, {"compose.yaml": text}, environ={"SOURCE": "override"}, normalize=False)
    assert stack.tree["services"]["bar"] == {"image": "busybox", "environment": {"ZOT": "QIX"}}


def test_stackfile_cg_include_relative_without_path_resolution(root: Path) -> None:
    stack = load(root, files=("testdata/include/compose.yaml",), resolve_paths=False)
    included = stack.tree["services"]["included"]
    assert included["build"]["context"] == "."
    assert included["volumes"][0]["source"] == "."


def test_stackfile_cg_include_env_stays_in_included_project(tmp_path: Path) -> None:
    files = {
        "compose.yml": """
            include:
              - path: [./module/compose.yml]
                env_file: [./custom.env]
            services:
              a: {image: alpine, environment: [VAR_NAME]}
        """,
        "custom.env": "VAR_NAME=value",
        "module/compose.yml": """
            services:
              b: {image: alpine, environment: [VAR_NAME]}
              c: {image: alpine, environment: [VAR_NAME]}
        """,
    }
    services = load(tmp_path, files, files=("compose.yml",)).tree["services"]
    assert services["a"]["environment"] == {"VAR_NAME": None}
    assert services["b"]["environment"] == services["c"]["environment"] == {"VAR_NAME": "value"}


def test_stackfile_cg_nested_include_and_extends(tmp_path: Path) -> None:
    files = {
        "compose.yml": "include:\n  - project_directory: .\n    path: dir/included.yaml\n",
        "dir/included.yaml": """
            services:
              included:
                extends: {file: dir/extended.yaml, service: extended}
        """,
        "dir/extended.yaml": "services: {extended: {image: alpine}}",
    }
    stack = load(tmp_path, files, files=("compose.yml",))
    assert stack.tree["services"]["included"]["image"] == "alpine"


def test_stackfile_cg_include_with_project_directory(root: Path) -> None:
    (root / "testdata" / "subdir" / "extra.env").write_text("A=1\n")
    stack = load(root, files=("testdata/include/project-directory.yaml",))
    svc = stack.tree["services"]["service"]
    sub = root / "testdata" / "subdir"
    assert svc["build"]["context"] == str(sub)
    assert svc["volumes"][0]["source"] == str(sub / "compose-test-extends-imported.yaml")
    assert svc["env_file"] == [{"path": str(sub / "extra.env")}]


def test_stackfile_include_env_file_without_path_resolution(tmp_path: Path) -> None:
    files = {
        "compose.yml": "include: [sub/c.yml]\n",
        "sub/c.yml": "services: {s: {image: i, env_file: [e.env]}}",
        "sub/e.env": "K=v\n",
    }
    stack = load(tmp_path, files, files=("compose.yml",), resolve_paths=False)
    svc = stack.tree["services"]["s"]
    assert svc["env_file"] == [{"path": "sub/e.env"}]
    assert svc["environment"] == {"K": "v"}
