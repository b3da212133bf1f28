"""Benchmark of the TEXT -> TREE loader (compose.stackfile). Prints figures; no assertions.

Run: python tests/bench/bench_stackfile_load.py

The large case (issue 17) is a generated 1.3 MB stack of ~2000 services: the tree load, the
model, and `config` (first run; from the memo), each in a fresh process, next to `docker
compose config` on the same file when the peers are installed (median of LARGE_RUNS).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path("/work/shared/corpus")
FULL = CORPUS / "compose-go" / "full-example" / "full-example.yml"
ENV = {"HOME": "/HOMEDIR", "BAR": "this is a secret", "QUX": "qux_from_environment"}
COLD = (
    "import time; t=time.perf_counter();"
    "from compose.stackfile import load_stack_tree, LoadOptions;"
    "load_stack_tree(LoadOptions(files=({f!r},), environ={e!r}));"
    "print((time.perf_counter()-t)*1000)"
)


def cold_ms(path: Path, runs: int = 7) -> list[float]:
    """Fresh interpreter each time: import of compose.stackfile + ruamel + one load."""
    code = COLD.format(f=str(path), e=ENV)
    return [
        float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(runs)
    ]


def warm_ms(path: Path, runs: int = 30) -> list[float]:
    from compose.stackfile import LoadOptions, load_stack_tree

    opts = LoadOptions(files=(str(path),), environ=ENV, cwd=path.parent)
    load_stack_tree(opts)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        load_stack_tree(opts)
        out.append((time.perf_counter() - t) * 1000)
    return out


LARGE_BYTES = 1_300_000
LARGE_RUNS = int(os.environ.get("BENCH_ROUNDS", "3"))
DOCKER = "/usr/bin/docker"
PHASES = (
    "import os, sys, time; from pathlib import Path;"
    "from compose.stackfile import load_stack_tree, LoadOptions;"
    "from compose.model import stack_from_tree;"
    "o = LoadOptions(files=(sys.argv[1],), environ=dict(os.environ), cwd=Path(sys.argv[1]).parent);"
    "t = time.perf_counter(); tree = load_stack_tree(o); m = time.perf_counter();"
    "stack_from_tree(tree); e = time.perf_counter();"
    "print((m - t) * 1000, (e - m) * 1000)"
)


def large_stack(path: Path) -> Path:
    """~2000 services, each with env, ports, labels, a healthcheck, limits, volumes."""
    lines = ["services:"]
    i = 0
    while sum(len(line) + 1 for line in lines) < LARGE_BYTES:
        lines += [
            f"  svc{i}:",
            f"    image: registry.example/app{i % 7}:1.{i}",
            "    restart: unless-stopped",
            "    environment:",
            f"      APP_NAME: svc{i}",
            f'      APP_PORT: "{8000 + i}"',
            "      LOG_LEVEL: info",
            "    ports:",
            f'      - "{10000 + i}:8000"',
            "    labels:",
            f"      com.example.team: team{i % 11}",
            "    healthcheck:",
            '      test: ["CMD", "wget", "-qO-", "http://localhost:8000/health"]',
            "      interval: 10s",
            "      retries: 3",
            "    deploy:",
            "      resources:",
            "        limits: {cpus: '0.5', memory: 128M}",
            "    volumes:",
            f"      - data{i % 5}:/var/lib/app",
            "      - ./conf:/etc/app:ro",
            "    networks: [front, back]",
        ]
        i += 1
    lines += ["networks:", "  front:", "  back:", "volumes:"] + [f"  data{k}:" for k in range(5)]
    path.write_text("\n".join(lines) + "\n")
    (path.parent / "conf").mkdir(exist_ok=True)
    return path


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):7.0f} ms ({min(values):.0f}-{max(values):.0f})"


def large() -> None:
    with tempfile.TemporaryDirectory(prefix="pycompose-bench-large-") as tmp:
        path = large_stack(Path(tmp) / "compose.yaml")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYCOMPOSE_CACHE_DIR"] = f"{tmp}/memo"
        config = [sys.executable, "-m", "compose", "-f", str(path), "config"]
        docker = [DOCKER, "compose", "-f", str(path), "config"]
        has_docker = (
            os.access(DOCKER, os.X_OK)
            and not subprocess.run([DOCKER, "compose", "version"], capture_output=True).returncode
        )
        tree, model, first, memo, theirs = [], [], [], [], []
        for i in range(LARGE_RUNS):
            out = subprocess.check_output([sys.executable, "-c", PHASES, str(path)], env=env)
            t, m = (float(x) for x in out.split())
            tree.append(t)
            model.append(m)
            fresh = {**env, "PYCOMPOSE_CACHE_DIR": f"{tmp}/memo{i}"}
            first.append(_wall(config, fresh))
            memo.append(_wall(config, fresh))
            if has_docker:
                theirs.append(_wall(docker, env))
        print(f"large stack ({path.stat().st_size / 1e6:.1f} MB, {LARGE_RUNS} runs):")
        print(f"  tree (load_stack_tree)      {_spread(tree)}")
        print(f"  model (stack_from_tree)     {_spread(model)}")
        print(f"  pycompose config, first run {_spread(first)}")
        print(f"  pycompose config, memo      {_spread(memo)}")
        if theirs:
            ratio = statistics.median(first) / statistics.median(theirs)
            print(f"  docker compose config       {_spread(theirs)}  (first run ratio {ratio:.2f})")


def main() -> None:
    cold = cold_ms(FULL)
    warm = warm_ms(FULL)
    print(f"full-example cold (import + load): median {statistics.median(cold):.1f} ms")
    print(f"full-example warm load:            median {statistics.median(warm):.1f} ms")
    stacks = sorted((CORPUS / "awesome-compose").glob("*/compose.y*ml"))
    per = [statistics.median(warm_ms(p, 5)) for p in stacks]
    print(
        f"awesome-compose ({len(stacks)} stacks) warm load: median {statistics.median(per):.1f} ms,"
        f" max {max(per):.1f} ms"
    )
    large()


def test_bench_stackfile_load() -> None:
    main()


if __name__ == "__main__":
    main()
