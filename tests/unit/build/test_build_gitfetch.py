"""Fetching git sources (compose.build.gitfetch) from a repository served by ``git daemon`` on
127.0.0.1: the ref resolved each time, the checkout cached by commit, BuildKit's modes, the
subdir as the root, ``.git`` dropped unless kept, one-line errors with hints, nothing left in
the temporary directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from compose.build import gitfetch
from compose.build.gitref import parse
from compose.errors import BuildError
from tests.gitserver import GitServer, git_server  # noqa: F401


def fetch(url: str, tmp_path: Path) -> gitfetch.Checkout:
    ref = parse(url)
    assert ref is not None
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return gitfetch.checkout(ref, tmp_path / "cache", tmp_path / "tmp", 'service "web"')


def modes(root: Path) -> dict[str, str]:
    out = {}
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(top, name)
            out[str(path.relative_to(root))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return out


def test_subdir_of_a_branch_with_buildkit_modes(git_server: GitServer, tmp_path: Path):  # noqa: F811
    commit = git_server.commit(
        {"README": "top\n", "app/hello.txt": "hi\n", "app/bin/run.sh": "#!/bin/sh\n"},
        executable=("app/bin/run.sh",),
    )
    got = fetch(git_server.url("#main:app"), tmp_path)
    assert got.commit == commit
    assert (got.path / "hello.txt").read_text() == "hi\n"
    assert modes(got.path) == {"hello.txt": "0o644", "bin": "0o755", "bin/run.sh": "0o755"}
    assert stat.S_IMODE(got.path.stat().st_mode) == 0o755
    assert list((tmp_path / "tmp").iterdir()) == []


def test_unchanged_remote_reuses_the_checkout_and_a_new_commit_is_fetched(
    git_server: GitServer,  # noqa: F811
    tmp_path: Path,
):
    git_server.commit({"f": "one\n"})
    first = fetch(git_server.url(), tmp_path)  # the default branch
    assert not (first.path / ".git").exists()
    again = fetch(git_server.url("#main"), tmp_path)
    assert again == first
    inode = first.path.stat().st_ino
    assert again.path.stat().st_ino == inode  # the cached tree, not a new fetch
    second = git_server.commit({"f": "two\n"})
    moved = fetch(git_server.url("#main"), tmp_path)
    assert moved.commit == second and (moved.path / "f").read_text() == "two\n"


def test_tags_commits_and_the_query_form(git_server: GitServer, tmp_path: Path):  # noqa: F811
    tagged = git_server.commit({"f": "v1\n"}, tag="v1")
    git_server.commit({"f": "v2\n"})
    by_tag = fetch(git_server.url("#v1"), tmp_path)
    assert by_tag.commit == tagged and (by_tag.path / "f").read_text() == "v1\n"
    by_sha = fetch(git_server.url("#" + tagged), tmp_path)
    assert (by_sha.path / "f").read_text() == "v1\n"
    assert fetch(git_server.url(f"?tag=v1&checksum={tagged[:7]}"), tmp_path) == by_tag
    with pytest.raises(BuildError, match=f"expected checksum to match 0000000, got .* or {tagged}"):
        fetch(git_server.url("?tag=v1&checksum=0000000"), tmp_path)
    query = fetch(git_server.url("?tag=v1&keep-git-dir=true"), tmp_path)
    assert (query.path / ".git").is_dir() and (query.path / "f").read_text() == "v1\n"
    assert not (query.path / ".git" / "FETCH_HEAD").exists()


def test_submodules_and_commit_times(git_server: GitServer, tmp_path: Path):  # noqa: F811
    lib = git_server.sibling("lib")
    lib.commit({"lib.txt": "from the submodule\n"})
    git_server.commit({"app.txt": "app\n"})
    commit = git_server.add_submodule(lib, "vendor/lib")
    got = fetch(git_server.url("#main"), tmp_path)
    assert got.commit == commit
    assert (got.path / "vendor" / "lib" / "lib.txt").read_text() == "from the submodule\n"
    skipped = fetch(git_server.url("?submodules=false"), tmp_path)
    assert list((skipped.path / "vendor" / "lib").iterdir()) == []
    when = int(subprocess_out("git", "-C", str(git_server.work), "log", "-1", "--format=%ct"))
    dated = fetch(git_server.url("?mtime=commit"), tmp_path)
    assert {int(p.lstat().st_mtime) for p in dated.path.rglob("*")} == {when}
    assert int(dated.path.stat().st_mtime) == when


def subprocess_out(*argv: str) -> str:
    import subprocess

    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def test_a_hung_remote_is_cancelled_and_leaves_nothing(tmp_path: Path):
    import socket
    import threading

    from compose.build.request import Cancelled

    with socket.socket() as sock:  # accepts and never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        ref = parse(f"git://127.0.0.1:{port}/repo.git#main")
        assert ref is not None
        (tmp_path / "tmp").mkdir()
        cancel = threading.Event()
        threading.Timer(0.5, cancel.set).start()
        with pytest.raises(Cancelled):
            gitfetch.checkout(ref, tmp_path / "cache", tmp_path / "tmp", "x", cancel)
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize(
    ("suffix", "message", "hint"),
    [
        ("#nosuch", "repository does not contain ref nosuch", "branch, tag or commit"),
        ("#main:missing", "subdir 'missing' is not a directory", "after ':'"),
        ("#main:f", "subdir 'f' is not a directory", "after ':'"),
    ],
)
def test_a_missing_ref_or_subdir_is_one_line(
    git_server: GitServer,  # noqa: F811
    tmp_path: Path,
    suffix: str,
    message: str,
    hint: str,
):
    git_server.commit({"f": "x\n"})
    with pytest.raises(BuildError) as err:
        fetch(git_server.url(suffix), tmp_path)
    text = str(err.value)
    assert "\n" not in text and text.startswith(f'service "web": {git_server.url()}: ')
    assert message in text and hint in (err.value.hint or "")
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []


def test_an_unreachable_repository_names_the_url_with_credentials_masked(tmp_path: Path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BuildError) as err:
        fetch(f"ssh://me:s3cret@127.0.0.1:{port}/repo.git", tmp_path)
    text = str(err.value)
    assert "s3cret" not in text and "\n" not in text
    assert text.startswith(f'service "web": ssh://xxxxx:xxxxx@127.0.0.1:{port}/repo.git: ')
    assert "reach" in (err.value.hint or "")
