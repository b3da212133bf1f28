"""Volume copy-up from the image as the container sees it (Docker copies from the container's
mounted rootfs, so it gets overlay's merge, whiteouts and opaque dirs right).

``copy_up(layers, target, volume)`` answers in process when the layers make the view a plain
lookup (the path missing, or an empty directory: a mount point such as redis' /data), else it
runs ``python -m compose.runtime.copyup`` (a fresh, single-threaded process, ~70 ms: it needs a
mount namespace of its own, which a threaded supervisor cannot unshare), which

1. unshares its mount namespace (nothing it mounts is seen outside, and it vanishes with it);
2. mounts the image's layers read-only as one overlay (lowerdirs only);
3. opens ``target`` in that view with RESOLVE_IN_ROOT: an image symlink is followed inside the
   image, never on the host (``safepath``);
4. copies the tree into the volume through fds only (``safepath.copy_tree``): nothing is followed,
   symlinks are copied as symlinks, every entry is created new (O_EXCL, O_NOFOLLOW) in a
   directory this copy made; owners, modes and times are kept; devices, fifos and sockets are
   not copied (as before).

Exit code 0: copied; 3: the image has no directory at ``target`` (nothing to copy).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from compose.errors import OperationError
from compose.runtime import rootfs, safepath, syscalls as sc

NOTHING = 3
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_DIR = _OPEN_DIR | os.O_NOFOLLOW


def copy_up(layers: Sequence[Path], target: str, volume: Path) -> bool:
    """Fill ``volume`` (an empty dir) from the image's ``target``; False: nothing there."""
    plain = _plain_view(layers, target)
    if plain is not None:  # no copy to make: no process to start (~70 ms)
        if plain is _ABSENT:
            return False
        with safepath.closing(os.open(volume, _DIR)) as dst:
            safepath.copy_attrs(plain, dst)
        return True
    request = {"layers": [str(p) for p in layers], "target": target, "volume": str(volume)}
    proc = subprocess.run(
        [sys.executable, "-m", "compose.runtime.copyup", json.dumps(request)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if proc.returncode == NOTHING:
        return False
    if proc.returncode != 0:
        why = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        raise OperationError(f"copy-up of the image's {target} into {volume}: {why[0]}")
    return True


_ABSENT = os.stat_result((0,) * 10)
OPAQUE = "trusted.overlay.opaque"


def _plain_view(layers: Sequence[Path], target: str) -> os.stat_result | None:
    """What the image shows at ``target`` when no layer makes it more than a lookup: every
    layer that has the path has it as real directories all the way (no symlink, whiteout,
    opaque directory or file on it) and empty at the end. Then the copy is the top one's mode,
    owner and times (its stat), or nothing (``_ABSENT``: no layer has it). None: only the
    mounted view can tell."""
    parts = [p for p in target.split("/") if p and p != "."]
    if not parts or ".." in parts:
        return None
    top = _ABSENT
    for layer in layers:  # lowest first: the last one found is what overlay shows
        found = _plain_dir(Path(layer), parts)
        if found is None:
            return None
        top = found if found is not _ABSENT else top
    return top


def _plain_dir(layer: Path, parts: Sequence[str]) -> os.stat_result | None:
    here = layer
    for depth, part in enumerate(parts):
        here = here / part
        try:
            info = os.lstat(here)  # each parent was checked to be a real directory
        except FileNotFoundError:
            return _ABSENT
        if not stat.S_ISDIR(info.st_mode) or _opaque(here):
            return None
        if depth == len(parts) - 1 and any(os.scandir(here)):
            return None
    return info


def _opaque(path: Path) -> bool:
    """An overlayfs opaque directory (it hides the lower layers' entries under it)."""
    try:
        return os.getxattr(path, OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _mount_image(layers: Sequence[str], at: str, empty: str) -> None:
    """The layers (lowest first) read-only at ``at``; an empty dir below them, so one layer is
    enough for overlay (it wants two lowerdirs without an upper)."""
    fds = [os.open(p, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for p in [empty, *layers]]
    cwd = os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.chdir("/proc/self/fd")  # short relative lowerdirs: many layers fit one page
        sc.mount("overlay", at, "overlay", sc.MS_RDONLY, rootfs.lower_option(fds))
    finally:
        os.fchdir(cwd)
        for fd in [*fds, cwd]:
            os.close(fd)


def run(request: dict[str, object]) -> int:
    layers = [str(p) for p in request["layers"]]  # type: ignore[attr-defined]
    sc.unshare(sc.CLONE_NEWNS)
    sc.mount(None, "/", None, sc.MS_SLAVE | sc.MS_REC)
    with tempfile.TemporaryDirectory(prefix="pyc-copyup-") as tmp:
        view, empty = os.path.join(tmp, "view"), os.path.join(tmp, "empty")
        os.mkdir(view)
        os.mkdir(empty)
        _mount_image(layers, view, empty)
        try:
            with safepath.closing(safepath.open_root(view)) as root:
                try:  # the mount point may be an image symlink: followed inside the image
                    src = safepath.open_in_root(root, str(request["target"]), _OPEN_DIR)
                except (FileNotFoundError, NotADirectoryError):
                    return NOTHING
                with safepath.closing(src):
                    with safepath.closing(os.open(str(request["volume"]), _DIR)) as dst:
                        safepath.copy_tree(src, dst)
        finally:
            sc.umount2(view, sc.MNT_DETACH)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(run(json.loads(sys.argv[1])))
    except OSError as err:
        sys.stderr.write(f"{err.strerror or err}: {err.filename or ''}\n")
        sys.exit(1)
