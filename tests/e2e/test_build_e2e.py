"""Building with the real CLI: the web-db stack's web image (up builds what is missing, an
edit rebuilds from the first affected step and recreates only that service, an unchanged
`build` is all CACHED, `down --rmi local` removes it, `builder prune` its steps and the build
bridge `down` kept) and the multi-stage example."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import urllib.request
from pathlib import Path

import pytest
from e2e_helpers import STACKS, Cli, wait_for

from tests.privileged.build.netcheck import (
    assert_no_build_bridge,
    assert_no_build_network,
    build_bridge,
)

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(300)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str = "/") -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as resp:
            return resp.read().decode()
    except OSError:
        return None


def containers(cli: Cli) -> dict[str, tuple[str, str]]:
    """service -> (its container, when it was created)."""
    rows = [json.loads(line) for line in cli.run("ps", "--format", "json").stdout.splitlines()]
    return {r["Service"]: (r["ID"], r["CreatedAt"]) for r in rows}  # docker's field names


def test_web_db_builds_rebuilds_what_changed_and_removes_its_image(project, tmp_path: Path):
    stack = tmp_path / "web-db"
    shutil.copytree(STACKS / "web-db", stack)
    port = free_port()
    cli = Cli(project, file=stack / "compose.yaml", env={"WEB_PORT": str(port)})
    first = cli.run("up", "-d", "--wait", "--wait-timeout", "120")
    assert "RUN python3 -m py_compile app.py" in first.stderr
    assert f"Image {project}-web Built" in first.stderr
    assert "I am " in wait_for(lambda: get(port), timeout=20)
    before = containers(cli)

    unchanged = cli.run("build", "--progress", "plain")
    steps = [
        line for line in unchanged.stderr.splitlines() if "[web " in line and "FROM" not in line
    ]
    assert len(steps) == 3
    assert unchanged.stderr.count("CACHED") == 3

    time.sleep(1.1)  # creation times have second resolution
    app = stack / "app" / "app.py"
    app.write_text(app.read_text().replace("Hello ", "Howdy "))
    rebuilt = cli.run("up", "-d", "--build", "--wait", "--wait-timeout", "120")
    assert "Howdy" in wait_for(lambda: get(port), timeout=20)
    after = containers(cli)
    assert after["redis"] == before["redis"] and after["web"] != before["web"]
    lines = rebuilt.stderr.splitlines()
    workdir = next(i for i, line in enumerate(lines) if "WORKDIR /app" in line)
    assert "CACHED" in lines[workdir + 1] or "CACHED" in lines[workdir]
    assert any("COPY app.py" in line for line in lines)
    assert not any("CACHED" in line and "COPY app.py" in line for line in lines)

    images = cli.run("images", "--format", "json").stdout
    assert f"{project}-web" in images
    cli.run("down", "--rmi", "local", "-t", "1")
    assert "<not built>" in cli.run("images").stdout
    assert Path("/sys/class/net", build_bridge()).exists()  # kept for the next build, as docker0
    pruned = cli.run("builder", "prune", "-f").stdout  # the removed image's steps are dangling
    assert "Deleted build cache objects:\n" in pruned
    assert "Total reclaimed space: " in pruned and "Total reclaimed space: 0B" not in pruned
    assert_no_build_bridge()


def test_multi_stage_example(project):
    port = free_port()
    cli = Cli(project, "multi-stage", env={"SITE_PORT": str(port)})
    out = cli.run("up", "-d", "--wait", "--wait-timeout", "120")
    assert "[site generate 4/4] RUN <<EOF" in out.stderr
    index = wait_for(lambda: get(port, "/index.html"), timeout=20)
    assert 'href="about.html"' in index and 'href="welcome.html"' in index
    assert "Generated in the first stage" in (get(port, "/welcome.html") or "")
    # the final image holds the generated pages only, not the sources of stage 1
    probe = cli.run("exec", "-T", "site", "sh", "-c", "ls /www; ls /src 2>&1 || true")
    assert "index.html" in probe.stdout and "No such file" in probe.stdout
    cli.run("down", "--rmi", "local", "-t", "1")


def test_a_terminated_build_leaves_nothing_and_the_next_reuses_its_steps(
    project, tmp_path: Path, isolated_dirs: Path
):
    import os
    import signal
    import subprocess

    (tmp_path / "Dockerfile").write_text(
        f"FROM {os.environ['BUSYBOX_IMAGE']}\nRUN echo first > /f\nRUN sleep 60\n"
    )
    (tmp_path / "compose.yaml").write_text("services:\n  slow:\n    build: .\n")
    cli = Cli(project, file=tmp_path / "compose.yaml")
    proc = subprocess.Popen(
        [*cli.argv("build", "--progress", "plain")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "RUN sleep 60" in line:
            break
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)  # as Ctrl-C: the build is cancelled and cleaned up
    assert proc.wait(timeout=60) == 130
    tmp = isolated_dirs / "state" / "images" / "tmp"
    assert [p.name for p in tmp.iterdir() if p.name != "empty-layer"] == []
    assert not (isolated_dirs / "run" / "build").exists()
    root = os.environ["PYCOMPOSE_CGROUP_ROOT"]
    assert [p for p in Path("/sys/fs/cgroup").glob(f"*/{root}/build/build-*")] == []
    assert_no_build_network()  # the RUN's netns, veth, relay table and address
    (tmp_path / "Dockerfile").write_text(
        f"FROM {os.environ['BUSYBOX_IMAGE']}\nRUN echo first > /f\nRUN true\n"
    )
    again = cli.run("build", "--progress", "plain").stderr
    first = next(i for i, line in enumerate(again.splitlines()) if "RUN echo first" in line)
    assert "CACHED" in again.splitlines()[first + 1]


def test_a_service_with_image_and_build_is_pulled_first_and_built_only_if_that_fails(
    project, tmp_path: Path
):
    """docker compose's rule (checked with the peers): `up` pulls a service's image: when it
    also has build:, and builds only what the registry does not have."""
    base = os.environ["BUSYBOX_IMAGE"]
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {base}\nRUN echo built > /marker\n")
    missing = base.rpartition("/")[0] + "/nosuch-image:v1"
    show = "cat /marker 2>/dev/null || echo pulled; trap 'exit 0' TERM; sleep 1000 & wait"
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        + "".join(
            f"  {name}:\n    image: {image}\n    build: ./ctx\n"
            f"    command: [sh, -c, {json.dumps(show)}]\n"
            for name, image in (("pulled", base), ("built", missing))
        )
    )
    cli = Cli(project, file=tmp_path / "compose.yaml")
    cli.run("up", "-d", "--wait", timeout=180)
    said = {s: cli.run("exec", "-T", s, "sh", "-c", "cat /marker || echo pulled").stdout.strip()
            for s in ("pulled", "built")}  # fmt: skip
    assert said == {"pulled": "pulled", "built": "built"}
