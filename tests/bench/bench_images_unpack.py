"""Benchmarks for compose.images (prints figures; no timed assertions).

    python tests/bench/bench_images_unpack.py
    python -m pytest tests/bench/bench_images_unpack.py -s -p no:cacheprovider

1. Unpack of a ~40 MB layer (a copy of this machine's Python stdlib, plain tar and gzip) with
   ``compose.images.unpack.unpack_layer`` versus ``tar -xf`` of the same file, best of 5,
   alternating, each after a sync.
   Ratio = tar seconds / our seconds (goal >= 0.8).
2. Cold pull of busybox:latest, python:3.11 and redis:7 from a local docker-registry into an
   empty store (seconds).
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from compose.images.store import ImageStore  # noqa: E402
from compose.images.unpack import unpack_layer  # noqa: E402
from tests.images import oci  # noqa: E402

SOURCE = Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
TARGET_BYTES = 40_000_000


def _make_layers(work: Path) -> tuple[Path, Path]:
    root = work / "src"
    root.mkdir()
    total = 0
    for path in sorted(SOURCE.rglob("*")):
        if total >= TARGET_BYTES or "site-packages" in path.parts:
            continue
        rel = path.relative_to(SOURCE)
        dest = root / rel
        if path.is_dir() and not path.is_symlink():
            dest.mkdir(parents=True, exist_ok=True)
        elif path.is_file() and not path.is_symlink() and path.stat().st_size < 2_000_000:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
            total += dest.stat().st_size
    plain = work / "layer.tar"
    oci.write_tar(root, plain)
    packed = work / "layer.tar.gz"
    with open(plain, "rb") as src, gzip.open(packed, "wb", compresslevel=6) as out:
        shutil.copyfileobj(src, out, 1 << 20)
    shutil.rmtree(root)
    return plain, packed


def _interleaved(first, second, runs: int = 5) -> tuple[float, float]:
    """Best of ``runs`` for each, alternating, each started after a sync (no writeback debt)."""
    best = [float("inf"), float("inf")]
    for _ in range(runs):
        for i, fn in enumerate((first, second)):
            os.sync()
            best[i] = min(best[i], fn())
    return best[0], best[1]


def _time_tar(layer: Path, work: Path, flags: list[str]) -> float:
    dest = Path(tempfile.mkdtemp(dir=work))
    start = time.perf_counter()
    subprocess.run(["tar", *flags, str(layer), "-C", str(dest)], check=True)
    elapsed = time.perf_counter() - start
    shutil.rmtree(dest)
    return elapsed


def _time_ours(layer: Path, work: Path) -> float:
    store = ImageStore(Path(tempfile.mkdtemp(dir=work)))
    dest = store.root / "layers" / "x"
    start = time.perf_counter()
    unpack_layer(layer, dest, store.tmp)
    elapsed = time.perf_counter() - start
    shutil.rmtree(store.root)
    return elapsed


def _compare(work: Path) -> None:
    plain, packed = _make_layers(work)
    size = plain.stat().st_size
    kind = "tmpfs: CPU only" if str(work).startswith("/dev/shm") else "disk"
    print(
        f"\n{work.parent} ({kind}): {size / 1e6:.1f} MB tar, "
        f"{packed.stat().st_size / 1e6:.1f} MB gzip"
    )
    for label, layer, flags in (("tar ", plain, ["-xf"]), ("gzip", packed, ["-xzf"])):
        theirs, ours = _interleaved(
            lambda layer=layer, flags=flags: _time_tar(layer, work, flags),
            lambda layer=layer: _time_ours(layer, work),
        )
        print(
            f"  {label}: tar {theirs:.3f}s  pycompose {ours:.3f}s  "
            f"ratio {theirs / ours:.2f}  ({size / 1e6 / ours:.0f} MB/s)"
        )


def test_unpack_throughput() -> None:
    places = [None] + (["/dev/shm"] if Path("/dev/shm").is_dir() else [])
    for place in places:
        with tempfile.TemporaryDirectory(prefix="bench-unpack-", dir=place) as tmp:
            _compare(Path(tmp))


def test_cold_pull_three_images() -> None:
    from compose.images import pull
    from tests.images import build, registry

    cache = build.build(log=False)
    with tempfile.TemporaryDirectory(prefix="bench-pull-") as tmp:
        server = registry.serve(registry.free_port(), Path(tmp) / "reg", cache=cache, log=False)
        try:
            store = ImageStore(Path(tmp) / "store")
            start = time.perf_counter()
            for name in ("busybox:latest", "python:3.11", "redis:7"):
                pull(server.ref(name), store=store)
            elapsed = time.perf_counter() - start
        finally:
            registry.stop(Path(tmp) / "reg")
        blobs = sum(p.stat().st_size for p in (store.root / "blobs" / "sha256").iterdir())
        print(f"\ncold pull of busybox, python, redis: {elapsed:.2f}s ({blobs / 1e6:.1f} MB blobs)")


if __name__ == "__main__":
    test_unpack_throughput()
    test_cold_pull_three_images()
