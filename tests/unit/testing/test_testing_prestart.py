"""When the pytest plugin starts stacks early: never for a session that runs no test or in an
xdist controller, and its spare supervisor only when a first conftest makes stack fixtures."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from compose.testing.plugin import _command_line_makes_stacks, _may_prestart, _mentions_stacks


def config(tmp_path: Path, *args: str, **options: Any) -> Any:
    ns = SimpleNamespace(file_or_dir=list(args), **options)
    return SimpleNamespace(
        known_args_namespace=ns, invocation_params=SimpleNamespace(dir=tmp_path), rootpath=tmp_path
    )


def test_a_plain_session_starts_early(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert _may_prestart(config(tmp_path))
    assert _may_prestart(config(tmp_path, numprocesses=0, dist="no"))  # -n 0: no xdist


@pytest.mark.parametrize(
    "options",
    [
        {"collectonly": True},
        {"help": True},
        {"showfixtures": True},
        {"setupplan": True},
        {"pycompose_no_prestart": True},
        {"numprocesses": 2},
        {"dist": "each"},
    ],
    ids=lambda o: next(iter(o)),
)
def test_no_early_start_without_tests_or_in_a_controller(tmp_path, monkeypatch, options):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert not _may_prestart(config(tmp_path, **options))
    assert not _may_prestart(None)


def test_an_xdist_worker_starts_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert _may_prestart(config(tmp_path, numprocesses=2, dist="load"))


def test_the_spare_follows_a_conftest_that_makes_stack_fixtures(tmp_path):
    (tmp_path / "tests" / "db").mkdir(parents=True)
    (tmp_path / "conftest.py").write_text("import pytest\n")
    assert not _mentions_stacks(config(tmp_path))
    maker = "from compose.testing import stack_fixture\nenv = stack_fixture('c.yaml')\n"
    (tmp_path / "tests" / "conftest.py").write_text(maker)
    assert _mentions_stacks(config(tmp_path))  # a test* subdirectory of the invocation dir
    assert _mentions_stacks(config(tmp_path, "tests/db/test_x.py::test_y"))  # a parent's
    assert not _mentions_stacks(config(tmp_path, "other"))  # not on the way to the rootdir


def test_the_command_line_alone_starts_the_spare_at_the_plugins_import(tmp_path):
    root = tmp_path / "project"  # the rootdir (an ini file): conftests above it do not count
    (root / "suite").mkdir(parents=True)
    (root / "pyproject.toml").write_text("")
    maker = "from compose.testing import stack_fixture\nenv = stack_fixture('c.yaml')\n"
    (tmp_path / "conftest.py").write_text(maker)
    env = {"PYTEST_VERSION": "9"}
    assert not _command_line_makes_stacks(["suite"], env, root)
    (root / "suite" / "conftest.py").write_text(maker)
    assert _command_line_makes_stacks(["-q", "-p", "no:x", "suite", "-k", "one"], env, root)
    assert _command_line_makes_stacks([], env, root / "suite")
    for no in (["-n", "2"], ["-n4"], ["--co"], ["--help"], ["--pycompose-no-prestart"]):
        assert not _command_line_makes_stacks(["suite", *no], env, root), no
    assert not _command_line_makes_stacks(["suite"], {**env, "PYTEST_ADDOPTS": "-n 2"}, root)
    assert not _command_line_makes_stacks(["suite"], {**env, "PYTEST_XDIST_WORKER": "gw0"}, root)
    assert not _command_line_makes_stacks(["suite"], {}, root)  # imported outside a session
