"""The test images really run: their layers, stacked by overlayfs as the runtime will stack
them (lowerdir = highest first), give a root where busybox, python and redis work."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from compose.images import Image, pull

pytestmark = [pytest.mark.privileged, pytest.mark.registry]


def _run_in(image: Image, tmp_path: Path, *argv: str) -> str:
    mnt = tmp_path / "root"
    mnt.mkdir()
    lower = ":".join(str(p) for p in reversed(image.layers))
    script = f'mount -t overlay overlay -o lowerdir={lower} {mnt} && exec chroot {mnt} "$@"'
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    out = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_busybox_runs(registry, tmp_path: Path) -> None:
    image = pull(registry.ref("busybox:latest"))
    out = _run_in(image, tmp_path, "sh", "-c", "id -un; id -u nobody; ls /bin/busybox")
    assert out.split() == ["root", "65534", "/bin/busybox"]


def test_python_runs_the_web_app_stdlib(registry, tmp_path: Path) -> None:
    image = pull(registry.ref("python:3.11"))
    code = (
        "import http.server as h, json, socket, os; "
        "s = h.ThreadingHTTPServer(('127.0.0.1', 0), h.BaseHTTPRequestHandler); "
        "print(json.dumps({'ok': s.server_address[1] > 0}))"
    )
    assert _run_in(image, tmp_path, "python3", "-c", code).strip() == '{"ok": true}'


def test_redis_runs(registry, tmp_path: Path) -> None:
    image = pull(registry.ref("redis:7"))
    out = _run_in(image, tmp_path, "sh", "-c", "redis-server --version && redis-cli --version")
    assert "Redis server v=7" in out and "redis-cli 7" in out
