"""A tiny two-layer busybox image for the runtime's tests and benchmark (no download when the
host has busybox-static; otherwise ``apt-get download busybox-static`` + ``dpkg-deb -x``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
)
GROUP = "root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:app\n"


def _busybox_binary(cache: Path) -> Path:
    if Path("/bin/busybox").exists():
        return Path("/bin/busybox")
    subprocess.run(
        ["apt-get", "download", "busybox-static"], cwd=cache, check=True, capture_output=True
    )
    deb = next(cache.glob("busybox-static_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(cache / "x")], check=True)
    return cache / "x/bin/busybox"


def build_busybox_layers(base: Path) -> tuple[Path, Path]:
    """Layer 1: busybox + applet symlinks + /etc; layer 2: a marker file and /home/app."""
    low, top = base / "layer1", base / "layer2"
    for d in ("bin", "etc", "tmp", "root", "proc", "dev", "sys", "sbin", "usr/bin"):
        (low / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(_busybox_binary(base), low / "bin/busybox")
    applets = subprocess.run(
        [str(low / "bin/busybox"), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for name in applets:
        if name != "busybox":
            os.symlink("busybox", low / "bin" / name)
    (low / "etc/passwd").write_text(PASSWD)
    (low / "etc/group").write_text(GROUP)
    os.chmod(low / "tmp", 0o1777)
    (top / "etc").mkdir(parents=True)
    (top / "etc/layer2").write_text("from layer 2\n")
    (top / "home/app").mkdir(parents=True)
    os.chown(top / "home/app", 1000, 1000)
    return low, top
