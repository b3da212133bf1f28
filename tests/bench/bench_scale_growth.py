"""How `up -d` grows with the number of replicas (issue 17): 10, 50, 100 and 200 replicas of one
busybox service, then 100 one-replica services; each a fresh project, brought up and down.

Prints per size the median wall and CPU time of `up -d` and `down` (CPU: everything the
command made the machine do, see ``benchkit``), the cost of each added replica between two
sizes (goal: linear, <= 15 ms a replica) and the detached supervisor's RSS once up (goal:
<= 80 MB at 50 replicas), with docker compose's figures of the same run where it is installed
(BENCH_DOCKER_MAX, default 100: larger sizes take docker compose minutes each).

Beyond 200 the first limit is the default network's subnet: a /24 from the address pool, 253
container addresses. The last part scales to BEYOND (default 260) replicas and prints what
`up` says: each replica past the 253rd fails at attach, naming the subnet (the others run).

    python tests/bench/bench_scale_growth.py        # BENCH_ROUNDS=3 (default 2)
    python -m pytest tests/bench/bench_scale_growth.py -s -p no:cacheprovider
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import benchkit

try:  # the pytest entry uses the session registry fixture
    from tests.images.fixtures import registry, test_images  # noqa: F401
except ImportError:  # run as a script: main() serves its own registry
    pass

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
DOCKER_MAX = int(os.environ.get("BENCH_DOCKER_MAX", "100"))
REPLICAS = (10, 50, 100, 200)
SERVICES = 100
PER_REPLICA_GOAL = 0.015
RSS_GOAL = 80.0
BEYOND = int(os.environ.get("BENCH_BEYOND", "260"))


def measure(tools: list[benchkit.Tool], tmp: Path, services: int, replicas: int) -> dict:
    """{tool: {"up": Samples, "down": Samples, "rss": [MB]}} for one size."""
    label = f"{services}svc" if services else f"{replicas}rep"
    out = {t.name: {"up": benchkit.Samples(), "down": benchkit.Samples(), "rss": []} for t in tools}
    runnable = [t for t in tools if t.name == "pycompose" or max(services, replicas) <= DOCKER_MAX]

    def once(tool: benchkit.Tool) -> None:
        file = benchkit.services_stack(tmp / tool.name / f"{label}.yaml", tool.image, services)
        project = f"grow{label}"
        scale = [] if services else ["--scale", f"web={replicas}"]
        try:
            out[tool.name]["up"].add(*tool.run(file, project, "up", "-d", *scale))
            rss = benchkit.supervisor_rss_mb(tool, project)
            if rss is not None:
                out[tool.name]["rss"].append(rss)
            out[tool.name]["down"].add(*tool.run(file, project, "down", "-t", "1"))
        except RuntimeError as exc:  # e.g. dockerd: "network ... has active endpoints"
            if tool.name == "pycompose":
                raise
            print(f"{tool.name} {label}: sample dropped: {str(exc).splitlines()[-1][:200]}")
            tool.run(file, project, "down", "-t", "1", check=False)

    benchkit.interleaved(ROUNDS, runnable, once)
    return out


def report(sizes: list[tuple[str, int, dict]]) -> None:
    print(f"\n{ROUNDS} rounds, {benchkit.load_line()}")
    previous: tuple[int, float, float | None] | None = None
    for label, count, found in sizes:
        ours = found["pycompose"]
        theirs = found.get("docker")
        up_theirs = theirs["up"] if theirs and theirs["up"].wall else None
        down_theirs = theirs["down"] if theirs and theirs["down"].wall else None
        print(benchkit.compare(f"{label}: up -d", ours["up"], up_theirs))
        print(benchkit.compare(f"{label}: down", ours["down"], down_theirs))
        rss = max(ours["rss"]) if ours["rss"] else None
        extra = (
            f" (goal <= {RSS_GOAL:.0f} MB)" if count == 50 and label.endswith("replicas") else ""
        )
        if rss is not None:
            print(f"{'':<34} supervisor RSS {rss:.1f} MB{extra}")
        if label.endswith("replicas") and previous is not None:
            n0, wall0, cpu0 = previous
            per = (ours["up"].median - wall0) / (count - n0)
            line = f"{'':<34} each replica {n0}->{count}: {per * 1000:.1f} ms wall"
            if cpu0 is not None and ours["up"].cpu_median is not None:
                line += f", {(ours['up'].cpu_median - cpu0) / (count - n0) * 1000:.1f} ms cpu"
            print(line + f" (goal <= {PER_REPLICA_GOAL * 1000:.0f} ms)")
        if label.endswith("replicas"):
            previous = (count, ours["up"].median, ours["up"].cpu_median)


def beyond(tool: benchkit.Tool, tmp: Path) -> str:
    """What `up -d --scale web=BEYOND` says (pycompose): its exit code and first failure."""
    file = benchkit.services_stack(tmp / tool.name / "beyond.yaml", tool.image, 0)
    try:
        wall, _cpu = tool.run(file, "growbeyond", "up", "-d", "--scale", f"web={BEYOND}")
        said = f"ok in {wall:.1f} s"
    except RuntimeError as exc:
        lines = [line for line in str(exc).splitlines()[1:] if line.strip()]
        first = next(
            (line for line in lines if "error" in line.lower()), lines[-1] if lines else ""
        )
        said = f"failed: {first.strip()}"
    finally:
        tool.run(file, "growbeyond", "down", "-t", "1", check=False)
    return f"{BEYOND} replicas (one /24 network): up -d {said}"


def run(registry_host: str) -> None:
    with tempfile.TemporaryDirectory(prefix="pycompose-bench-grow-") as name:
        tmp = Path(name)
        with benchkit.tools(tmp, registry_host) as tools:
            sizes = [(f"{n} replicas", n, measure(tools, tmp, 0, n)) for n in REPLICAS]
            sizes.append((f"{SERVICES} services", SERVICES, measure(tools, tmp, SERVICES, 1)))
            limit = beyond(tools[0], tmp) if BEYOND else ""
        report(sizes)
        if limit:
            print(limit)


def test_bench_scale_growth(registry) -> None:  # pytest entry: the session registry
    run(registry.host)


if __name__ == "__main__":
    benchkit.serve_registry_and(run)
