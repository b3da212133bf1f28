"""A git repository served on 127.0.0.1 by ``git daemon`` (git:// URLs) for the tests of git
build contexts and ``ADD <git URL>``; started and stopped (by pid) by the ``git_server`` fixture.

    server.commit({"sub/hello.txt": "hi\n"}, executable=["sub/run.sh"])  # on branch main
    server.url("#main:sub")  -> "git://127.0.0.1:PORT/repo.git#main:sub"
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

_IDENT = ["-c", "user.name=pycompose tests", "-c", "user.email=tests@pycompose.invalid"]


def _git(*args: str, cwd: Path | None = None) -> str:
    out = subprocess.run(
        ["git", *_IDENT, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class GitServer:
    def __init__(self, root: Path, name: str = "repo") -> None:
        self.root, self.name = root, name
        self.base = root / "served"
        self.work = root / f"work-{name}"
        self.base.mkdir(parents=True, exist_ok=True)
        _git("init", "-q", "--bare", "-b", "main", str(self.base / f"{name}.git"))
        _git("init", "-q", "-b", "main", str(self.work))
        _git("remote", "add", "origin", str(self.base / f"{name}.git"), cwd=self.work)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def sibling(self, name: str) -> GitServer:
        """Another repository served by the same daemon."""
        other = GitServer(self.root, name)
        other.port = self.port
        return other

    def add_submodule(self, other: GitServer, path: str) -> str:
        """Commit ``other`` (served by the same daemon) as a submodule at ``path``."""
        _git(
            "-c",
            "protocol.allow=always",
            "submodule",
            "add",
            "-q",
            other.url(),
            path,
            cwd=self.work,
        )
        return self.commit({})

    def commit(
        self,
        files: Mapping[str, str],
        executable: tuple[str, ...] = (),
        branch: str = "main",
        tag: str = "",
    ) -> str:
        """Write ``files`` (path -> text), commit them on ``branch`` and push; the commit SHA."""
        for rel, text in files.items():
            path = self.work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            os.chmod(path, 0o775 if rel in executable else 0o664)  # git keeps only the x bit
        _git("add", "-A", cwd=self.work)
        _git("commit", "-q", "--allow-empty", "-m", f"commit {time.time_ns()}", cwd=self.work)
        if tag:
            _git("tag", "-a", "-m", tag, tag, cwd=self.work)
        _git("push", "-q", "--follow-tags", "origin", f"HEAD:refs/heads/{branch}", cwd=self.work)
        return _git("rev-parse", "HEAD", cwd=self.work)

    def url(self, suffix: str = "") -> str:
        return f"git://127.0.0.1:{self.port}/{self.name}.git{suffix}"

    def start(self) -> None:
        for _ in range(5):
            self.port = _free_port()
            self.proc = subprocess.Popen(
                [
                    "git",
                    "daemon",
                    "--export-all",
                    "--informative-errors",
                    f"--base-path={self.base}",
                    "--listen=127.0.0.1",
                    f"--port={self.port}",
                    "--reuseaddr",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._listening():
                return
            self.stop()
        raise RuntimeError("git daemon did not start")

    def _listening(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@pytest.fixture
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    server = GitServer(tmp_path_factory.mktemp("git"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
