"""The test images really run: their layers, stacked by overlayfs as the runtime will stack
them (lowerdir = highest first), give a root where busybox, python and redis work."""

from __future__ import annotations

import subprocess
import time
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


def _serve_in(
    image: Image,
    work: Path,
    argv: list[str],
    env: dict[str, str],
    bind: tuple[Path, str] | None = None,
) -> subprocess.Popen:
    for sub in ("root", "upper", "work"):
        (work / sub).mkdir(parents=True)
    lower = ":".join(str(p) for p in reversed(image.layers))
    opts = f"lowerdir={lower},upperdir={work / 'upper'},workdir={work / 'work'}"
    mnt = work / "root"
    script = f"mount -t overlay overlay -o {opts} {mnt}"
    if bind:
        script += f" && mkdir -p {mnt}{bind[1]} && mount --bind {bind[0]} {mnt}{bind[1]}"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **env}
    return subprocess.Popen(
        [
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            f'{script} && exec chroot {mnt} "$@"',
            "sh",
            *argv,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_web_db_example_app_runs_on_the_test_images(registry, tmp_path: Path) -> None:
    import urllib.request

    from tests.images.registry import free_port

    py, rd = pull(registry.ref("python:3.11")), pull(registry.ref("redis:7"))
    rport, wport = free_port(), free_port()
    app = Path(__file__).resolve().parents[3] / "examples/stacks/web-db/app"
    procs = [
        _serve_in(
            rd,
            tmp_path / "redis",
            ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", ""],
            {},
        ),
        _serve_in(
            py,
            tmp_path / "web",
            ["python3", "/app/app.py"],
            {
                "PORT": str(wport),
                "NAME": "images",
                "DB_PORT_6379_TCP_ADDR": "127.0.0.1",
                "DB_PORT_6379_TCP_PORT": str(rport),
            },
            (app, "/app"),
        ),
    ]
    try:
        answers = []
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{wport}/", timeout=2) as resp:
                    answers.append(resp.read().decode())
            except OSError:
                time.sleep(0.1)
            if len(answers) == 2:
                break
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
    assert len(answers) == 2  # each answer needed a redis INCR to succeed
    assert all("images" in a for a in answers)  # NAME reached the app
