"""Git build sources with the real CLI, from a repository served by ``git daemon`` on
127.0.0.1: a service whose ``build.context`` is ``git://...#branch:subdir`` builds and runs, an
unchanged remote rebuilds CACHED, a new commit on the branch rebuilds; ``ADD <git URL>`` and a
git ``additional_contexts`` entry; an unreachable repository is one line naming the service
and the URL, and leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e_helpers import Cli

from tests.gitserver import GitServer, git_server  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(300)]


def dockerfile(*lines: str) -> str:
    return "\n".join([f"FROM {os.environ['BUSYBOX_IMAGE']}", *lines, 'CMD ["sleep", "3600"]', ""])


def cached(stderr: str) -> dict[str, bool]:
    """Plain progress: each step's line -> was it CACHED (``#4 <name>`` ... ``#4 CACHED``)."""
    names: dict[str, str] = {}
    out: dict[str, bool] = {}
    for line in stderr.splitlines():
        number, _, rest = line.partition(" ")
        if number.startswith("#") and rest and number not in names:
            names[number] = rest
            out[rest] = False
        elif rest == "CACHED" and number in names:
            out[names[number]] = True
    return out


def store_tmp(isolated_dirs: Path) -> list[str]:
    tmp = isolated_dirs / "state" / "images" / "tmp"
    return sorted(p.name for p in tmp.iterdir() if p.name != "empty-layer")


def test_a_git_context_builds_runs_and_rebuilds_when_the_branch_moves(
    project,
    git_server: GitServer,  # noqa: F811
    tmp_path: Path,
    isolated_dirs: Path,
):
    git_server.commit(
        {
            "README": "not in the context\n",
            "web/Dockerfile": dockerfile("COPY hello.txt run.sh /app/"),
            "web/hello.txt": "built from git, first\n",
            "web/run.sh": "#!/bin/sh\necho ran\n",
        },
        executable=("web/run.sh",),
        branch="dev",
    )
    url = git_server.url("#dev:web")
    (tmp_path / "compose.yaml").write_text(f"services:\n  app:\n    build: {url}\n")
    cli = Cli(project, file=tmp_path / "compose.yaml")

    first = cli.run("build", "--progress", "plain").stderr
    assert f"[internal] load git source {url}" in first
    assert "COPY hello.txt run.sh /app/" in first and f"Image {project}-app Built" in first
    cli.run("up", "-d")
    shown = cli.run("exec", "-T", "app", "sh", "-c", "cat /app/hello.txt; ls /app; /app/run.sh")
    assert shown.stdout.split() == [*"built from git, first".split(), "hello.txt", "run.sh", "ran"]
    modes = cli.run(
        "exec", "-T", "app", "stat", "-c", "%a %u:%g %n", "/app/hello.txt", "/app/run.sh"
    )
    assert modes.stdout.splitlines() == ["644 0:0 /app/hello.txt", "755 0:0 /app/run.sh"]

    unchanged = cli.run("build", "--progress", "plain").stderr
    assert cached(unchanged)["[app 2/2] COPY hello.txt run.sh /app/"], unchanged
    assert f"[internal] load git source {url}" in unchanged
    results = isolated_dirs / "state" / "images" / "buildcache" / "results"
    assert any('"git":' in p.read_text() for p in results.glob("*.json"))  # remembered by commit

    git_server.commit({"web/hello.txt": "built from git, second\n"}, branch="dev")
    rebuilt = cli.run("build", "--progress", "plain").stderr  # the memo must not replay it
    assert not cached(rebuilt)["[app 2/2] COPY hello.txt run.sh /app/"], rebuilt
    cli.run("up", "-d", "--build")
    again = cli.run("exec", "-T", "app", "cat", "/app/hello.txt").stdout
    assert again == "built from git, second\n"
    assert store_tmp(isolated_dirs) == []
    cli.run("down", "--rmi", "local", "-t", "1")


def test_add_of_a_git_source_and_a_git_additional_context(
    project,
    git_server: GitServer,  # noqa: F811
    tmp_path: Path,
):
    git_server.commit(
        {"lib/data.txt": "data\n", "lib/bin/tool": "#!/bin/sh\n", "top.txt": "t\n"},
        executable=("lib/bin/tool",),
    )
    (tmp_path / "Dockerfile").write_text(
        dockerfile(
            f"ADD {git_server.url('#main:lib')} /src",
            f"ADD --keep-git-dir {git_server.url('#main')} /repo",
            "COPY --from=extra top.txt /ctx.txt",
        )
    )
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    build:\n      context: .\n      additional_contexts:\n"
        f"        extra: {git_server.url('#main')}\n"
    )
    cli = Cli(project, file=tmp_path / "compose.yaml")
    cli.run("build", "--progress", "plain")
    cli.run("up", "-d")
    probe = "stat -c '%a %n' /src /src/data.txt /src/bin /src/bin/tool; cat /ctx.txt; ls -a /repo"
    out = cli.run("exec", "-T", "app", "sh", "-c", probe).stdout.split("\n")
    assert out[:5] == ["755 /src", "644 /src/data.txt", "755 /src/bin", "755 /src/bin/tool", "t"]
    assert ".git" in out[5:] and "top.txt" in out[5:]
    again = cli.run("build", "--progress", "plain").stderr
    steps = {k: v for k, v in cached(again).items() if k.startswith("[app ") and "FROM" not in k}
    assert len(steps) == 3 and all(steps.values()), again
    cli.run("down", "--rmi", "local", "-t", "1")


def test_an_unreachable_repository_is_one_line_and_leaves_nothing(
    project, tmp_path: Path, isolated_dirs: Path
):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"git://127.0.0.1:{port}/nowhere.git#main"
    (tmp_path / "compose.yaml").write_text(f"services:\n  app:\n    build: {url}\n")
    cli = Cli(project, file=tmp_path / "compose.yaml")
    failed = cli.run("build", "--progress", "plain", check=False)
    assert failed.returncode == 1
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, failed.stderr
    assert f'service "app": build context: git://127.0.0.1:{port}/nowhere.git' in errors[0]
    assert "Connection refused" in errors[0]
    assert "hint: check the URL" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert store_tmp(isolated_dirs) == []
