"""Mirrors of compose-go loader/extends_test.go, run on the shared testdata."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from stackfile_helpers import load

from compose.errors import UserError

TESTDATA = Path("/work/shared/corpus/compose-go/loader/testdata")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(TESTDATA, tmp_path / "testdata")
    return tmp_path


def _services(root: Path, text: str, **opts: object) -> dict:
    return load(root, {"compose.yaml": text}, **opts).tree["services"]


def test_stackfile_cg_extends(root: Path) -> None:
    text = """
        name: test-extends
        services:
          test1: {extends: {file: testdata/extends/base.yaml, service: base}, hostname: test1}
          test2: {extends: {file: testdata/extends/base.yaml, service: base}, hostname: test2}
          test3: {extends: {file: testdata/extends/base.yaml, service: another}, hostname: test3}
    """
    services = _services(root, text, resolve_paths=False)
    assert [services[f"test{i}"]["hostname"] for i in (1, 2, 3)] == ["test1", "test2", "test3"]
    assert services["test3"]["image"] == "base"


def test_stackfile_cg_extends_port_and_ulimits(root: Path) -> None:
    text = """
        services:
          test: {image: test, extends: {file: testdata/extends/base.yaml, service: with-port}}
          lim: {extends: {file: testdata/extends/base.yaml, service: withUlimits}}
    """
    services = _services(root, text)
    assert services["test"]["ports"][0]["target"] == 8000
    assert services["lim"]["ulimits"]["nproc"] == 65535


def test_stackfile_cg_extends_relative_path_without_resolution(root: Path) -> None:
    text = "services: {test: {extends: {file: testdata/extends/base.yaml, service: with-build}}}"
    services = _services(root, text, resolve_paths=False)
    assert services["test"]["build"]["context"] == "testdata/extends"


def test_stackfile_cg_extends_nil_service(root: Path) -> None:
    text = (
        "services: {test: {image: test, extends: {file: testdata/extends/base.yaml, service: nil}}}"
    )
    assert _services(root, text, normalize=False)["test"] == {"image": "test"}


def test_stackfile_cg_extends_without_service_is_an_error(root: Path) -> None:
    text = "services: {test: {image: test, extends: {file: testdata/extends/base.yaml}}}"
    with pytest.raises(UserError, match=r"services\.test\.extends: must name a service"):
        _services(root, text)


def test_stackfile_cg_include_with_extends(root: Path) -> None:
    text = "name: t\ninclude: [testdata/extends/nested.yaml]\n"
    assert "build" in _services(root, text)["with-build"]


def test_stackfile_cg_extends_port_override_is_deduplicated(root: Path) -> None:
    files = {
        "override.yaml": """
            services:
              test:
                extends: {file: testdata/extends/ports.yaml, service: test}
        """
    }
    files_ = ("testdata/extends/ports.yaml", "override.yaml")
    stack = load(root, files, files=files_, project_directory=str(root))
    assert len(stack.tree["services"]["test"]["ports"]) == 1


def test_stackfile_cg_extends_same_file_in_subdir(root: Path) -> None:
    sub = """
        services:
          base: {build: {context: ..}}
          service: {extends: base, build: {target: target}}
    """
    top = """
        services:
          out-base: {extends: {file: sub/compose.yaml, service: base}}
          out-service: {extends: {file: sub/compose.yaml, service: service}}
    """
    stack = load(root, {"sub/compose.yaml": sub, "compose.yaml": top}, normalize=False)
    services = stack.tree["services"]
    assert services["out-base"]["build"] == {"context": str(root)}
    assert services["out-service"]["build"] == {"context": str(root), "target": "target"}


def test_stackfile_cg_extends_depends_on_override(root: Path) -> None:
    text = """
        services:
          service_a: {image: a, depends_on: [service_c]}
          service_b:
            extends: service_a
            depends_on: !override [service_a]
          service_c: {image: c}
    """
    deps = _services(root, text)["service_b"]["depends_on"]
    assert deps == {"service_a": {"condition": "service_started", "required": True}}


def test_stackfile_cg_extends_reset_and_interpolation(root: Path) -> None:
    text = """
        services:
          test: {extends: {file: testdata/extends/reset.yaml, service: base}}
          foo: {extends: {file: testdata/extends/interpolated.yaml, service: foo}}
    """
    services = _services(root, text)
    assert "command" not in services["test"]
    assert services["foo"]["volumes"][0]["source"] == "/dev/null"
