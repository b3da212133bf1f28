"""Debian package plumbing for the test images: dependency closure, download, extraction.

Only ``apt-cache``, ``apt-get download`` and ``dpkg-deb -x`` are used (no debootstrap, no Docker).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

# Essential or maintainer-script-only packages a container image does not need; their own
# dependencies are not followed either. Library packages listed here only back optional modules.
SKIP = frozenset(
    {
        "adduser",
        "cdebconf",
        "debconf",
        "dpkg",
        "init-system-helpers",
        "install-info",
        "lsb-base",
        "passwd",
        "perl-base",
        "readline-common",
        "sysvinit-utils",
        "tar",
        "tzdata",
        "usr-is-merged",
        "usrmerge",
        "media-types",
        "mime-support",
        "libdb5.3",
        "libncursesw6",
        "libnsl2",
        "libreadline8",
        "libsqlite3-0",
        "libtirpc3",
        "libtinfo6",
    }
)


def _apt(args: list[str]) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, env=_apt_env())
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def _apt_env() -> dict[str, str]:
    return {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}


def direct_depends(package: str) -> list[str]:
    """First usable alternative of each Depends/PreDepends of ``package``."""
    out = _apt(["apt-cache", "depends", "--important", package])
    chosen: list[str] = []
    group: list[str] = []
    for line in out.splitlines()[1:]:
        stripped = line.strip()
        if ":" in stripped:
            kind, name = stripped.split(":", 1)
            group.append(name.strip())
            if not kind.startswith("|"):
                chosen.extend(_pick(group))
                group = []
        elif stripped:  # provider of a virtual package
            group.append(stripped)
    return chosen


def _pick(group: list[str]) -> list[str]:
    for name in group:
        if not name.startswith("<") and name not in SKIP:
            return [name]
    return []


def ensure_lists() -> None:
    """Run ``apt-get update`` once if this machine has no package lists yet."""
    if not any(Path("/var/lib/apt/lists").glob("*_Packages*")):
        _apt(["apt-get", "update", "-qq"])


def closure(roots: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
    """Sorted dependency closure of ``roots`` minus ``exclude`` (and what only they need)."""
    ensure_lists()
    seen: set[str] = set(exclude) | SKIP
    todo = [r for r in roots if r not in seen]
    result: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        result.add(name)
        todo.extend(d for d in direct_depends(name) if d not in seen)
    return sorted(result)


def download(packages: list[str], debs_dir: Path) -> dict[str, Path]:
    """Download the candidate .deb of each package into ``debs_dir`` (cached); name -> file."""
    debs_dir.mkdir(parents=True, exist_ok=True)
    missing = [p for p in packages if _find_deb(p, debs_dir) is None]
    if missing:
        _download(missing, debs_dir)
    return {p: _require_deb(p, debs_dir) for p in packages}


def _download(packages: list[str], debs_dir: Path) -> None:
    cmd = ["apt-get", "download", "-q", *packages]
    proc = subprocess.run(cmd, cwd=debs_dir, capture_output=True, text=True, env=_apt_env())
    if proc.returncode != 0:  # lists missing or stale: refresh once and retry
        _apt(["apt-get", "update", "-qq"])
        proc = subprocess.run(cmd, cwd=debs_dir, capture_output=True, text=True, env=_apt_env())
    if proc.returncode != 0:
        raise RuntimeError(f"apt-get download {' '.join(packages)}: {proc.stderr.strip()}")


def _find_deb(package: str, debs_dir: Path) -> Path | None:
    matches = sorted(debs_dir.glob(f"{package}_*.deb"))
    return matches[-1] if matches else None


def _require_deb(package: str, debs_dir: Path) -> Path:
    found = _find_deb(package, debs_dir)
    if found is None:
        raise RuntimeError(f"apt-get download left no .deb for {package}")
    return found


def extract(debs: Iterable[Path], root: Path) -> None:
    """``dpkg-deb -x`` every package into ``root``, then merge /bin, /lib... into /usr."""
    root.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    merge_usr(root)


MERGED = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


def merge_usr(root: Path) -> None:
    """Move top-level /bin, /lib... into /usr (the base layer holds the symlinks)."""
    for name in MERGED:
        top = root / name
        if top.is_dir() and not top.is_symlink():
            _move_tree(top, root / "usr" / name)
            shutil.rmtree(top)


def _move_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for child in src.iterdir():
        target = dst / child.name
        if child.is_dir() and not child.is_symlink():
            _move_tree(child, target)
        elif not target.exists() and not target.is_symlink():
            child.rename(target)
