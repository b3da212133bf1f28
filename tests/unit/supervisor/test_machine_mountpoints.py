"""The shared mount point layer: which images get it, and what it holds."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from compose.images.model import Image, ImageConfig
from compose.model import Service
from compose.runtime.spec import ContainerSpec
from compose.supervisor.machine import mountpoints
from compose.supervisor.machine.spec import Made, container_spec

ETC_NAMES = ("hostname", "hosts", "resolv.conf")


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYCOMPOSE_STATE_DIR", str(tmp_path / "state"))
    mountpoints._planned.cache_clear()


def _layer(root: Path, name: str, files: dict[str, str] | None = None) -> Path:
    layer = root / name
    layer.mkdir(parents=True)
    for rel, kind in (files or {}).items():
        path = layer / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "dir":
            path.mkdir()
        elif kind == "whiteout":
            os.mknod(path, stat.S_IFCHR | 0o600, 0)
        elif kind.startswith("->"):
            path.symlink_to(kind[2:])
        else:
            path.write_text(kind)
    return layer


def _spec(tmp_path: Path, *layers: Path) -> ContainerSpec:
    image = Image("busybox", "sha256:" + "1" * 64, layers, ImageConfig(cmd=("sh",)))
    svc = Service.model_validate({"image": "busybox"}).model_copy(update={"name": "web"})
    rdir = tmp_path / "replica"
    binds = tuple((f"/etc/{n}", rdir / "etc" / n) for n in ETC_NAMES)
    return container_spec(
        svc, name="p-web-1", project="p", index=1, image=image, made=Made(rdir, etc_files=binds)
    )


def test_an_image_without_the_etc_files_gets_them_from_one_shared_layer(tmp_path: Path) -> None:
    base = _layer(tmp_path, "l1", {"etc/passwd": "root:x:0:0::/root:/bin/sh\n"})
    os.chmod(base / "etc", 0o750)
    spec = _spec(tmp_path, base)
    top = spec.layers[-1]
    assert spec.layers[:-1] == (base,)
    assert sorted(os.listdir(top / "etc")) == list(ETC_NAMES)
    assert stat.S_IMODE(os.stat(top / "etc").st_mode) == 0o750  # the image's /etc, unchanged
    assert all((top / "etc" / n).stat().st_size == 0 for n in ETC_NAMES)
    assert _spec(tmp_path / "again", base).layers[-1] == top  # shared, made once


def test_only_the_names_the_image_lacks_are_in_it(tmp_path: Path) -> None:
    base = _layer(tmp_path, "l1", {"etc/hosts": "127.0.0.1 localhost\n", "etc/hostname": "x"})
    top = _layer(tmp_path, "l2", {"etc/hostname": "whiteout"})
    spec = _spec(tmp_path, base, top)
    assert sorted(os.listdir(spec.layers[-1] / "etc")) == ["hostname", "resolv.conf"]


def test_an_opaque_etc_hides_the_files_below_it(tmp_path: Path) -> None:
    base = _layer(tmp_path, "l1", {"etc/hosts": "x", "etc/hostname": "x", "etc/resolv.conf": ""})
    top = _layer(tmp_path, "l2", {"etc": "dir"})
    os.setxattr(top / "etc", "trusted.overlay.opaque", b"y")
    spec = _spec(tmp_path, base, top)
    assert sorted(os.listdir(spec.layers[-1] / "etc")) == list(ETC_NAMES)


@pytest.mark.parametrize(
    "files",
    [
        {"etc/hosts": "x", "etc/hostname": "x", "etc/resolv.conf": "x"},  # nothing missing
        {"etc": "->usr/etc", "usr/etc/hosts": "x"},  # /etc is a symlink
        {"bin/sh": "x"},  # no /etc at all
    ],
)
def test_images_it_does_not_fit_keep_their_layers(tmp_path: Path, files: dict[str, str]) -> None:
    base = _layer(tmp_path, "l1", files)
    assert _spec(tmp_path, base).layers == (base,)


def test_a_symlinked_name_is_left_to_the_container_as_before(tmp_path: Path) -> None:
    base = _layer(tmp_path, "l1", {"etc/resolv.conf": "->../run/resolv.conf"})
    assert sorted(os.listdir(_spec(tmp_path, base).layers[-1] / "etc")) == ["hostname", "hosts"]
