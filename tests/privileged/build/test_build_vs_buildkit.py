"""Conformance with Docker's BuildKit (``DOCKER_BUILDKIT=1 docker build`` from ../shared/peers):
for Dockerfiles covering the instructions and the COPY/RUN rules, the image config, the history
and the root filesystem (paths, types, modes, owners, sizes, link targets; not times) equal what
BuildKit makes from the same context. Skipped without dockerd (CI never has it). dockerd 20.10's
frontend predates heredocs and RUN --mount: those are covered by test_build_steps.py."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

DOCKER = "/usr/bin/docker"


def _docker_running() -> bool:
    if not os.access(DOCKER, os.X_OK):
        return False
    return subprocess.run([DOCKER, "info"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(
    not _docker_running(), reason="dockerd (../shared/peers) is not running"
)

CASES: dict[str, tuple[str, dict[str, str]]] = {
    "metadata": (
        "FROM BUSYBOX\n"
        'ARG A=1\nENV E1=one E2="two words" E3=$A\nLABEL l1=a "l 2"=b\nEXPOSE 80 53/udp 8000-8001\n'
        "VOLUME /data /cache\nUSER nobody\nWORKDIR /srv\nWORKDIR sub\nSTOPSIGNAL SIGINT\n"
        "HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD wget -q localhost\n"
        'SHELL ["/bin/sh", "-ec"]\nCMD echo $E1\nONBUILD RUN echo later\nMAINTAINER someone\n',
        {},
    ),
    "entrypoint-resets-cmd": ('FROM BUSYBOX\nENTRYPOINT ["/bin/echo"]\n', {}),
    "copy-rules": (
        "FROM BUSYBOX\nCOPY dir /contents\nCOPY dir/f /into/\nCOPY dir/f /as-file\n"
        "COPY top-link /followed\nCOPY *.txt /globbed/\nCOPY nomatch* /nothing/\n"
        "COPY --chown=65534:65534 dir /owned\nCOPY --chown=nobody dir/f /by-name\n"
        "COPY --chmod=0600 dir/f /mode\nCOPY ../dir/f /cleaned\nWORKDIR /w\nCOPY a.txt b.txt ./\n",
        {
            "dir/f": "f\n",
            "dir/sub/g": "gg\n",
            "a.txt": "a",
            "b.txt": "bb",
            "ignored.txt": "x",
            ".dockerignore": "ignored.txt\n",
        },
    ),
    "run-changes": (
        "FROM BUSYBOX\nRUN mkdir -p /d/e && echo x > /d/e/f && ln -s /d/e /link && ln /d/e/f /hard"
        " && chmod 0700 /d && rm -rf /usr/share /bin/ping && mkdir /tmp/new && chown 1:2 /tmp/new\n"
        "RUN rm -rf /d/e && mkdir /d/e && echo y > /d/e/g\n"
        "USER nobody\nWORKDIR /home/nobody/work\n",
        {},
    ),
    "multi-stage": (
        "FROM BUSYBOX AS build\nRUN mkdir /out && echo built > /out/file && chown 65534 /out/file\n"
        "FROM BUSYBOX AS unused\nRUN exit 1\n"
        "FROM BUSYBOX\nCOPY --from=build /out /app\nCOPY --from=0 /out/file /single\n"
        "ADD archive.tar /unpacked/\n",
        {},
    ),
}


def _archive(ctx: Path) -> None:
    with tarfile.open(ctx / "archive.tar", "w") as tar:
        for name, data, mode, uid in (
            ("pkg/bin/tool", b"#!/bin/sh\n", 0o755, 0),
            ("pkg/etc/c", b"c", 0o640, 7),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid, info.gid = len(data), mode, uid, uid
            tar.addfile(info, io.BytesIO(data))


def _context(tmp: Path, case: str, base: str) -> Path:
    dockerfile, files = CASES[case]
    ctx = tmp / case
    ctx.mkdir()
    for rel, text in files.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(text)
    for rel in files:
        os.chmod(ctx / rel, 0o644)
    if case == "copy-rules":
        (ctx / "top-link").symlink_to("dir/f")
        (ctx / "dir" / "nested-link").symlink_to("sub/g")
        os.chmod(ctx / "dir", 0o755)
        os.chmod(ctx / "dir" / "sub", 0o750)
    if case == "multi-stage":
        _archive(ctx)
    (ctx / "Dockerfile").write_text(dockerfile.replace("BUSYBOX", base))
    return ctx


# -- root filesystems as {path: (type, mode, uid, gid, size, link)} ---------------------------
def _docker_rootfs(tag: str, tmp: Path) -> tuple[dict[str, Any], dict[str, tuple]]:
    saved = tmp / "saved.tar"
    subprocess.run([DOCKER, "save", "-o", str(saved), tag], check=True, capture_output=True)
    with tarfile.open(saved) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
        config = json.load(outer.extractfile(manifest["Config"]))  # type: ignore[arg-type]
        tree: dict[str, tuple] = {}
        for layer in manifest["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(layer)) as tar:  # type: ignore[arg-type]
                _apply(tar, tree)
    return config, tree


def _apply(tar: tarfile.TarFile, tree: dict[str, tuple]) -> None:
    members = tar.getmembers()
    for m in members:
        name = "/" + m.name.strip("/").removeprefix("./")
        base = os.path.basename(name)
        parent = os.path.dirname(name)
        if base == ".wh..wh..opq":
            for path in [p for p in tree if p.startswith(parent + "/")]:
                del tree[path]
        elif base.startswith(".wh."):
            gone = os.path.join(parent, base[4:])
            for path in [p for p in tree if p == gone or p.startswith(gone + "/")]:
                del tree[path]
    for m in members:
        name = "/" + m.name.strip("/").removeprefix("./")
        if os.path.basename(name).startswith(".wh."):
            continue
        kind = "d" if m.isdir() else "l" if m.issym() else "f" if m.isreg() or m.islnk() else "o"
        if m.islnk():
            target = tree.get("/" + m.linkname.strip("/"))
            size = target[4] if target else 0
            tree[name] = ("f", m.mode & 0o7777, m.uid, m.gid, size, "")
            continue
        tree[name] = (
            kind,
            m.mode & 0o7777,
            m.uid,
            m.gid,
            m.size if kind == "f" else 0,
            m.linkname if kind == "l" else "",
        )


def _our_rootfs(built: Any) -> dict[str, tuple]:
    tree: dict[str, tuple] = {}
    for entry in built.root.tree("/"):
        st = entry.st
        mode = st.st_mode
        kind = (
            "d"
            if stat.S_ISDIR(mode)
            else "l"
            if stat.S_ISLNK(mode)
            else "f"
            if stat.S_ISREG(mode)
            else "o"
        )
        link = os.readlink(entry.path) if kind == "l" else ""
        name = "/" + entry.rel if entry.rel else "/"
        tree[name] = (
            kind,
            stat.S_IMODE(mode),
            st.st_uid,
            st.st_gid,
            st.st_size if kind == "f" else 0,
            link,
        )
    tree.pop("/", None)
    return tree


def _history(config: dict[str, Any]) -> list[tuple[str, bool]]:
    """(created_by, empty_layer) per entry; COPY's --chown/--chmod words are dropped: newer
    BuildKit writes them, dockerd 20.10's did not."""
    return [
        (_normalized(h.get("created_by", "")), bool(h.get("empty_layer")))
        for h in config.get("history", [])
    ]


def _normalized(created_by: str) -> str:
    if created_by.startswith("HEALTHCHECK "):
        return "HEALTHCHECK"
    return re.sub(r" --ch(own|mod)=\S+", "", created_by)


@pytest.fixture(scope="module")
def docker_base(registry) -> str:
    ref = registry.ref("busybox:latest")
    subprocess.run([DOCKER, "pull", "-q", ref], check=True, capture_output=True)
    return ref


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_config_history_and_rootfs_as_buildkit(
    case: str, build, docker_base: str, tmp_path: Path
) -> None:
    ctx = _context(tmp_path, case, docker_base)
    tag = f"pycompose-conformance-{case}"
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    proc = subprocess.run(
        [DOCKER, "build", "-q", "-t", tag, str(ctx)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    try:
        theirs, their_tree = _docker_rootfs(tag, tmp_path)
        theirs = _as_current_buildkit(theirs)
    finally:
        subprocess.run([DOCKER, "rmi", "-f", tag], capture_output=True)
    # ours, from the same context
    shutil.copytree(ctx, tmp_path / "ctx", symlinks=True)
    ours = build((ctx / "Dockerfile").read_text())
    assert ours.config["config"] == theirs["config"]
    assert _history(ours.config) == _history(theirs)
    our_tree = _our_rootfs(ours)
    differ = {
        p: (our_tree.get(p), their_tree.get(p))
        for p in set(our_tree) | set(their_tree)
        if our_tree.get(p) != their_tree.get(p)
    }
    assert differ == {}


def _as_current_buildkit(config: dict[str, Any]) -> dict[str, Any]:
    """dockerd 20.10's BuildKit predates two format changes that pycompose follows (the
    BuildKit of the reference, 2026): null fields are omitted ("OnBuild": null), and EXPOSE's
    history prints the port list (``EXPOSE [80/tcp]``, not ``EXPOSE map[80/tcp:{}]``)."""
    out = dict(config)
    out["config"] = {k: v for k, v in config["config"].items() if v is not None}
    history = []
    for h in config.get("history", []):
        text = h.get("created_by", "")
        if text.startswith("HEALTHCHECK &{"):
            text = "HEALTHCHECK"  # 20.10 printed a pointer; the config itself is compared
        if text.startswith("EXPOSE map["):
            ports = text.removeprefix("EXPOSE map[").removesuffix("]").split()
            text = "EXPOSE [" + " ".join(p.removesuffix(":{}") for p in ports) + "]"
        history.append({**h, "created_by": text})
    out["history"] = history
    return out
