"""A test stack's identity: one record from which its project name and labels derive, unique
per run, xdist worker and configuration; the owner labels `ls` shows and a sweep reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from compose.state import owner
from compose.testing.identity import CONFIG, RUN, WORKER, config_hash, identity


def _ident(tmp_path: Path, **kw):
    file = tmp_path / "compose.yaml"
    if not file.exists():
        file.write_text("services: {}\n")
    args = {"env": {}, "profiles": (), "env_file": None, "run_id": "abcdef123456", "worker": "gw0"}
    args.update(kw)
    return identity("Shop App", [file], args.pop("env"), args.pop("profiles"), **args)


def test_the_project_name_says_stack_config_run_and_worker(tmp_path):
    one = _ident(tmp_path)
    assert one.project == f"shopapp-{one.config_hash[:6]}-abcdef-gw0"
    assert _ident(tmp_path, worker="gw1").project != one.project
    assert _ident(tmp_path, run_id="999999000000").project != one.project
    assert _ident(tmp_path, env={"A": "1"}).project != one.project
    assert _ident(tmp_path, profiles=("x",)).project != one.project


def test_the_config_hash_follows_the_files_contents(tmp_path):
    file = tmp_path / "a.yaml"
    file.write_text("services: {}\n")
    before = config_hash([file], {}, (), None)
    file.write_text("services: {web: {image: x}}\n")
    assert config_hash([file], {}, (), None) != before


def test_a_long_stack_name_is_cut(tmp_path):
    ident = identity("x" * 80, [tmp_path / "c.yaml"], {}, (), None, "r" * 12, "gw12")
    assert len(ident.project) <= 20 + 1 + 6 + 1 + 6 + 1 + 4


def test_labels_name_run_worker_config_and_owner(tmp_path):
    labels = _ident(tmp_path).labels
    assert labels[RUN] == "abcdef123456" and labels[WORKER] == "gw0" and labels[CONFIG]
    assert owner.owner_pid(labels) == (os.getpid(), owner.owner_pid(labels)[1])
    assert not owner.orphaned(labels)
    assert owner.describe(labels).startswith(f"pid {os.getpid()}")


def test_a_dead_owner_is_an_orphan_and_shown_gone():
    proc = subprocess.Popen(["true"])
    proc.wait()
    labels = owner.owner_labels(proc.pid, 12345, "pytest gw3")
    assert owner.orphaned(labels)
    assert owner.describe(labels) == f"pid {proc.pid} pytest gw3 (gone)"
    kept = {**labels, owner.KEPT: "pytest --pycompose-keep"}
    assert owner.describe(kept) == "kept (pytest --pycompose-keep)"
    assert not owner.orphaned({})


def test_importing_the_api_and_the_plugin_is_light():
    """pytest loads the plugin in every session: no pydantic, anyio or kernel code on import."""
    code = (
        "import sys, compose.testing, compose.testing.plugin;"
        "from compose.testing import Stack;"
        "heavy = {'pydantic', 'anyio', 'pyroute2', 'compose.supervisor.service', 'compose.model'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
