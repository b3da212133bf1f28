"""Benchmark of the TEXT -> TREE loader (compose.stackfile). Prints figures; no assertions.

Run: python tests/bench/bench_stackfile_load.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
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


def test_bench_stackfile_load() -> None:
    main()


if __name__ == "__main__":
    main()
