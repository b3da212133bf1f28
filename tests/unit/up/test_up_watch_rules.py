"""`watch`'s rules on a loaded stack: which saved file each develop.watch item takes (ignore,
include, the build context's .dockerignore, editors' temporary files), what a batch asks of
each service (rebuild wins, sync+exec runs once, restart after the sync), initial_sync, and the
errors docker compose gives before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose.errors import UserError
from compose.model import load_stack
from compose.stackfile import LoadOptions
from compose.watch.changes import Rebuild, Restart, Run, Sync, initial, tasks_for
from compose.watch.loop import watched_roots
from compose.watch.rules import rules_of

STACK = """
services:
  web:
    build: ./app
    develop:
      watch:
        - action: sync
          path: ./app/src
          target: /srv/src
          ignore: ["*.tmp", "cache/"]
        - action: sync+exec
          path: ./app/templates
          target: /srv/templates
          exec: {command: ["kill", "-HUP", "1"], user: root}
        - action: sync+restart
          path: ./conf
          target: /etc/app
          include: ["*.ini"]
        - action: rebuild
          path: ./app/requirements.txt
  worker:
    image: busybox
    develop:
      watch:
        - action: restart
          path: ./conf/worker.ini
        - action: sync
          path: ./shared
          target: /shared
          initial_sync: true
"""


@pytest.fixture
def stack(tmp_path: Path):
    app = tmp_path / "app"
    (app / "src" / "cache").mkdir(parents=True)
    (app / "templates").mkdir()
    (app / "Dockerfile").write_text("FROM busybox\n")
    (app / ".dockerignore").write_text("src/secret.key\n")
    (tmp_path / "conf").mkdir()
    (tmp_path / "shared" / "deep").mkdir(parents=True)
    (tmp_path / "shared" / "a.txt").write_text("a")
    (tmp_path / "shared" / "deep" / "b.txt").write_text("b")
    (tmp_path / "shared" / "c.swp").write_text("editor")
    (tmp_path / "compose.yaml").write_text(STACK)
    return load_stack(LoadOptions(files=(str(tmp_path / "compose.yaml"),), cwd=tmp_path))


def test_a_saved_source_file_syncs_to_its_target(stack, tmp_path: Path):
    saved = tmp_path / "app" / "src" / "pkg" / "main.py"
    assert tasks_for(rules_of(stack), [saved]) == [Sync("web", ((saved, "/srv/src/pkg/main.py"),))]


@pytest.mark.parametrize(
    "rel",
    [
        "app/src/x.tmp",  # the item's ignore
        "app/src/cache/blob",  # a directory pattern of ignore
        "app/src/secret.key",  # the build context's .dockerignore
        "app/src/.main.py.swp",  # an editor's swap file
        "app/src/main.py~",  # a backup file
        "app/src/.git/index",  # VCS metadata
        "conf/app.yaml",  # not in the item's include
        "elsewhere/file.txt",  # under no item's path
    ],
)
def test_ignored_files_ask_for_nothing(stack, tmp_path: Path, rel: str):
    assert tasks_for(rules_of(stack, ["web"]), [tmp_path / rel]) == []


def test_sync_exec_runs_once_after_its_sync_and_restart_follows(stack, tmp_path: Path):
    one, two = tmp_path / "app" / "templates" / "a.html", tmp_path / "app" / "templates" / "b"
    conf = tmp_path / "conf" / "app.ini"
    tasks = tasks_for(rules_of(stack, ["web"]), [one, two, conf])
    syncs = ((conf, "/etc/app/app.ini"), (one, "/srv/templates/a.html"), (two, "/srv/templates/b"))
    assert tasks[0] == Sync("web", tuple(sorted(syncs)))
    assert isinstance(tasks[1], Run) and tasks[1].exec.argv == ("kill", "-HUP", "1")
    assert tasks[1].exec.user == "root"
    assert tasks[2:] == [Restart("web")]


def test_a_rebuild_path_wins_over_the_syncs_of_the_same_batch(stack, tmp_path: Path):
    batch = [tmp_path / "app" / "requirements.txt", tmp_path / "app" / "src" / "main.py"]
    assert tasks_for(rules_of(stack), batch) == [Rebuild("web")]


def test_one_file_rule_and_services_in_the_rules_order(stack, tmp_path: Path):
    worker_ini = tmp_path / "conf" / "worker.ini"
    assert tasks_for(rules_of(stack), [worker_ini]) == [
        Sync("web", ((worker_ini, "/etc/app/worker.ini"),)),
        Restart("web"),
        Restart("worker"),
    ]


def test_a_deleted_file_is_synced_too(stack, tmp_path: Path):
    gone = tmp_path / "shared" / "old.txt"  # never existed now: the sync removes it inside
    assert tasks_for(rules_of(stack, ["worker"]), [gone]) == [
        Sync("worker", ((gone, "/shared/old.txt"),))
    ]


def test_initial_sync_copies_every_file_but_ignored_ones(stack, tmp_path: Path):
    shared = tmp_path / "shared"
    items = ((shared / "a.txt", "/shared/a.txt"), (shared / "deep/b.txt", "/shared/deep/b.txt"))
    assert initial(rules_of(stack)) == [Sync("worker", items)]  # not c.swp


def test_watched_roots_exist_and_none_is_under_another(stack, tmp_path: Path):
    """requirements.txt does not exist yet: its directory is watched (it is seen once made),
    and that covers app/src and app/templates; conf/worker.ini is under conf."""
    roots = watched_roots(rule.path for rule in rules_of(stack))
    assert sorted(roots) == [tmp_path / "app", tmp_path / "conf", tmp_path / "shared"]


def _load(tmp_path: Path, body: str):
    (tmp_path / "compose.yaml").write_text(body)
    return load_stack(LoadOptions(files=(str(tmp_path / "compose.yaml"),), cwd=tmp_path))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "services:\n  web:\n    image: busybox\n",
            "none of the selected services is configured for watch",
        ),
        (
            "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n"
            "        - {action: rebuild, path: ./src}\n",
            'can\'t watch service "web" with action rebuild without a build context',
        ),
        (
            "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n"
            "        - {action: sync, path: ./src}\n",
            "sync needs a target",
        ),
    ],
)
def test_rules_that_cannot_work_are_errors(tmp_path: Path, body: str, message: str):
    with pytest.raises(UserError) as err:
        rules_of(_load(tmp_path, body))
    assert message in str(err.value)
