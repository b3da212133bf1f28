"""Benchmark: a pytest session with redis + an HTTP service, from `pytest` starting to the first
test body running with both ready, and the per-test reset (restore of redis' volume).

    python tests/bench/bench_testenv.py                  # or
    python -m pytest tests/bench/bench_testenv.py -s -p no:cacheprovider

pycompose: ``stack_fixture`` (the pytest11 plugin) on examples/pytest/compose.yaml, images from
the tests' registry. The peer, when dockerd runs (``../shared/peers``): testcontainers-python's
``DockerCompose`` on the same file (``wait=True``: ``docker compose up --wait``), images
``localhost/redisimg`` / ``localhost/pyimg-pyc`` (the peers' ``pyimg`` with its standard library
compiled, as tests/images' python is: a fresh container then imports ``http.server`` in 0.07 s,
not 0.34), installed into a throwaway venv
(``tests/bench/_out/tc-venv``). Both suites are the same test with the same readiness: compose
``--wait`` stops at "running" for the HTTP service, so the peer's fixture then polls its port on
the container IP every 50 ms, as pycompose's readiness does itself. Goals: >= 5x faster to the
first test; a small redis volume's restore <= 100 ms. Prints medians over BENCH_ROUNDS (3)
rounds (ours and the peer's interleaved, the load of each) after one warm-up each.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:  # the pytest entry uses the tests' session registry
    from tests.images.fixtures import registry, test_images  # noqa: F401
except ImportError:  # run as a script: main() serves its own
    pass

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pytest"
OUT = Path(__file__).resolve().parent / "_out"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
RESTORES = int(os.environ.get("BENCH_RESTORES", "10"))
DOCKER = "/usr/bin/docker"  # /usr/local/bin/docker (a 28.x client) may come first in PATH

FIRST_TEST = """
import json, os, time

def test_first(stack):
    with open(os.environ["STAMP"], "w") as out:
        out.write(repr(time.time()))
"""

RESTORE_TEST = """
def redis(stack, *command):
    import socket
    payload = f"*{len(command)}\\r\\n" + "".join(f"${len(c)}\\r\\n{c}\\r\\n" for c in command)
    with socket.create_connection(stack.address("redis", 6379), timeout=5) as conn:
        conn.sendall(payload.encode())
        return conn.recv(4096)

def test_restores(stack):
    stack.snapshot("seeded")
    runs = []
    for i in range(int(os.environ["RESTORES"])):
        assert redis(stack, "SET", f"k{i}", "v") == b"+OK\\r\\n"
        done = stack.restore("seeded")
        assert redis(stack, "GET", f"k{i}") == b"$-1\\r\\n"
        runs.append({"seconds": done.seconds, "phases": done.phases, "bytes": done.copied_bytes})
    big = "head -c 104857600 /dev/urandom > /data/seed.bin && sync"
    assert stack.exec("redis", "sh", "-c", big, timeout=120).ok
    stack.snapshot("big")
    redis(stack, "SET", "x", "1")
    small = stack.restore("big")
    stack.exec("redis", "sh", "-c", "echo x >> /data/seed.bin").check()
    whole = stack.restore("big")
    with open(os.environ["RESTORE_OUT"], "w") as out:
        json.dump({"small": runs, "big_small_change": small.seconds,
                   "big_rewritten": whole.seconds, "big_copied": whole.copied_bytes}, out)
"""

OURS = "from compose.testing import stack_fixture\nstack = stack_fixture({file!r})\n"

PEER = """
import json, socket, subprocess, time
import pytest
from testcontainers.compose import DockerCompose

def accepting(compose, service, port):
    # what pycompose's readiness adds (`--wait` stops at "running"): the port accepts
    ident = compose.get_container(service).ID
    info = json.loads(subprocess.run([{docker!r}, "inspect", ident], capture_output=True).stdout)
    ip = next(iter(info[0]["NetworkSettings"]["Networks"].values()))["IPAddress"]
    while True:
        try:
            socket.create_connection((ip, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)

@pytest.fixture(scope="session")
def stack():
    compose = DockerCompose({dir!r}, compose_file_name="compose.yaml", wait=True,
                            docker_command_path={docker!r})
    with compose:
        accepting(compose, "web", 8000)
        yield compose
"""


def make_suite(root: Path, conftest: str, tests: str) -> Path:
    shutil.copytree(EXAMPLE, root / "stack", ignore=shutil.ignore_patterns("test_*", "conftest.py"))
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "conftest.py").write_text(
        conftest.format(
            file=str(root / "stack" / "compose.yaml"), dir=str(root / "stack"), docker=DOCKER
        )
    )
    (root / "test_bench.py").write_text(tests)
    return root


# Both sessions load the same pytest: this repository's test venv also has hypothesis (whose
# plugin imports it at the end of every session: ~1 s), xdist and pytest-timeout, which a
# suite of a pycompose user need not have and the peer's venv has not. Bytecode is written as
# in a user's runs (pytest keeps its rewritten test modules in __pycache__).
SAME_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:xdist", "-p", "no:timeout")


def time_to_first_test(python: str, suite: Path, env: dict[str, str]) -> float:
    stamp = suite / "stamp"
    stamp.unlink(missing_ok=True)
    started = time.time()
    argv = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SAME_PLUGINS]
    proc = subprocess.run(
        [*argv, str(suite), "-k", "first"],
        cwd=suite,
        env={
            k: v for k, v in {**env, "STAMP": str(stamp)}.items() if k != "PYTHONDONTWRITEBYTECODE"
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{python} -m pytest failed:\n{proc.stdout}\n{proc.stderr}")
    return float(stamp.read_text()) - started


def interleaved(sides: list[tuple[str, Path, dict[str, str]]]) -> list[list[float]]:
    """ROUNDS rounds of each side, alternating (ours, the peer's, ours...: a load change hits
    both), after one warm-up each (images pulled, caches filled); the load of each round."""
    for python, suite, env in sides:
        time_to_first_test(python, suite, env)
    found: list[list[float]] = [[] for _ in sides]
    for n in range(ROUNDS):
        figures = [time_to_first_test(*side) for side in sides]
        for values, value in zip(found, figures, strict=True):
            values.append(value)
        shown = "  ".join(f"{v:.3f} s" for v in figures)
        print(f"  round {n + 1}: {shown}  (load {os.getloadavg()[0]:.1f})")
    return found


def line(label: str, values: list[float]) -> str:
    med = statistics.median(values)
    return f"{label:<34} median {med:6.3f} s  min {min(values):6.3f}  max {max(values):6.3f}"


def peer_python() -> str | None:
    """testcontainers in a throwaway venv, when dockerd answers (None: no peer)."""
    if subprocess.run([DOCKER, "info"], capture_output=True).returncode != 0:
        return None
    venv = OUT / "tc-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "testcontainers>=4", "pytest"],
            check=True,
        )
    return str(python)


PEER_WEB = "localhost/pyimg-pyc"
PEER_WEB_BUILD = (
    "FROM localhost/pyimg:latest\n"
    "RUN python3 -m compileall -q -j0 --invalidation-mode unchecked-hash /usr/lib/python3.11\n"
)


def peer_web_image() -> str:
    """The peers' python image with bytecode (built once into dockerd)."""
    found = subprocess.run([DOCKER, "image", "inspect", PEER_WEB], capture_output=True)
    if found.returncode != 0:
        subprocess.run(
            [DOCKER, "build", "-q", "-t", PEER_WEB, "-"],
            input=PEER_WEB_BUILD.encode(),
            capture_output=True,
            check=True,
        )
    return PEER_WEB


def run(registry_host: str) -> None:
    with tempfile.TemporaryDirectory(prefix="pycompose-bench-testenv-") as tmp:
        base = Path(tmp)
        env = {
            **os.environ,
            "PYCOMPOSE_STATE_DIR": f"{tmp}/state",
            "PYCOMPOSE_RUN_DIR": f"{tmp}/run",
            "REDIS_IMAGE": f"{registry_host}/redis:7",
            "WEB_IMAGE": f"{registry_host}/python:3.11",
            "RESTORES": str(RESTORES),
            "RESTORE_OUT": f"{tmp}/restores.json",
        }
        ours_suite = make_suite(base / "ours", OURS, FIRST_TEST + RESTORE_TEST)
        sides = [(sys.executable, ours_suite, env)]
        python = peer_python()
        if python is not None:
            peer_env = {
                **os.environ,
                "REDIS_IMAGE": "localhost/redisimg",
                "WEB_IMAGE": peer_web_image(),
            }
            sides.append((python, make_suite(base / "peer", PEER, FIRST_TEST), peer_env))
        print(f"\nto the first test, pycompose{', testcontainers' if python else ''}:")
        found = interleaved(sides)
        ours = found[0]
        print(line("pycompose plugin: to first test", ours))
        if python is None:
            print("peer: dockerd not running (bash ../shared/peers/setup.sh), skipped")
        else:
            theirs = found[1]
            print(line("testcontainers DockerCompose: same", theirs))
            ratio = statistics.median(theirs) / statistics.median(ours)
            print(f"ratio testcontainers/pycompose to first test: {ratio:.1f}x (goal >= 5x)")
        restores(ours_suite, env)


def restores(suite: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(suite),
            "-k",
            "restores",
        ],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"restores failed:\n{proc.stdout}\n{proc.stderr}")
    found = json.loads(Path(env["RESTORE_OUT"]).read_text())
    runs = found["small"]
    print(line(f"restore, small redis volume (x{len(runs)})", [r["seconds"] for r in runs]))
    phases = {k: statistics.median(r["phases"][k] for r in runs) for k in runs[0]["phases"]}
    print("  median per step: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in phases.items()))
    print(
        f"restore, 100 MB volume: a small file changed {found['big_small_change'] * 1000:.0f} ms; "
        f"the 100 MB file rewritten {found['big_rewritten'] * 1000:.0f} ms "
        f"({found['big_copied'] / 1e6:.0f} MB copied)"
    )


def test_bench_testenv(registry) -> None:  # pytest entry: the tests' session registry
    run(registry.host)


def main() -> None:
    from tests.images import registry as reg

    with reg.temporary() as server:
        run(server.host)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
