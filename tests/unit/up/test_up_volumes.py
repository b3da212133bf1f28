"""Volumes: named dirs, copy-up from image layers, binds relative to the project, tmpfs, secrets."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace as NS

import pytest

from compose.errors import UserError
from compose.planner.planner import anonymous_mounts
from compose.runtime import safepath
from compose.volumes import (
    copy_up,
    ensure_volume,
    remove_volume,
    service_mounts,
    volume_data,
)


def layer(root: Path, files: dict[str, str], mode: int = 0o644) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
    return root


def test_copy_tree_keeps_modes_and_symlinks_and_follows_nothing(tmp_path):
    """The copy itself (the layers' merge needs root: tests/privileged/security)."""
    src = layer(tmp_path / "src", {"a.txt": "new", "sub/b": "b"}, mode=0o600)
    os.symlink("a.txt", src / "link")
    os.symlink(str(tmp_path / "host"), src / "sub" / "out")  # copied as a link, never followed
    (tmp_path / "host").mkdir()
    (src / "sub").chmod(0o750)
    vol = ensure_volume("p_data")
    with safepath.closing(os.open(src, os.O_RDONLY | os.O_DIRECTORY)) as s:
        with safepath.closing(os.open(vol, os.O_RDONLY | os.O_DIRECTORY)) as d:
            safepath.copy_tree(s, d)
    assert (vol / "a.txt").read_text() == "new"
    assert (vol / "a.txt").stat().st_mode & 0o777 == 0o600
    assert (vol / "sub").stat().st_mode & 0o777 == 0o750
    assert os.readlink(vol / "link") == "a.txt"
    assert os.readlink(vol / "sub" / "out") == str(tmp_path / "host")
    assert list((tmp_path / "host").iterdir()) == []


def test_an_initialized_volume_is_never_filled_again(tmp_path):
    vol = ensure_volume("p_empty")
    assert not copy_up(vol, [], "/data")  # nothing to copy, but it is initialized now
    assert not copy_up(vol, [layer(tmp_path / "l", {"data/a": "image"})], "/data")
    assert not (vol / "a").exists()


def test_non_empty_volume_is_not_overwritten(tmp_path):
    vol = ensure_volume("p_x")
    (vol / "mine").write_text("user data")
    assert not copy_up(vol, [layer(tmp_path / "l", {"data/mine": "image"})], "/data")
    assert (vol / "mine").read_text() == "user data"


def test_external_volume_must_exist_and_remove_tolerates_absence():
    with pytest.raises(UserError, match='external volume "shared" not found'):
        ensure_volume("shared", external=True)
    remove_volume("nothing-here")
    ensure_volume("p_v")
    remove_volume("p_v")
    assert not volume_data("p_v").exists()


def stack_with(tmp_path: Path, **service: object) -> tuple[NS, NS]:
    fields = {
        "name": "web",
        "volumes": [],
        "tmpfs": [],
        "volumes_from": [],
        "secrets": [],
        "configs": [],
    }
    svc = NS(**{**fields, **service})
    secret = tmp_path / "token.txt"
    secret.write_text("s3cret")
    stack = NS(
        name="p",
        working_dir=tmp_path,
        services={"web": svc},
        volumes={"data": NS(name=None, external=False)},
        secrets={"token": NS(file=str(secret))},
        configs={},
    )
    return stack, svc


def vol(type_: str, source: str | None, target: str, **kw: object) -> NS:
    return NS(
        type=type_,
        source=source,
        target=target,
        read_only=kw.get("ro", False),
        bind=None,
        volume=kw.get("volume"),
        tmpfs=None,
    )


def test_service_mounts(tmp_path):
    stack, svc = stack_with(
        tmp_path,
        volumes=[
            vol("bind", "./app", "/app", ro=True),
            vol("volume", "data", "/data"),
            vol("volume", None, "/cache"),
        ],
        tmpfs=["/tmp:size=64m,mode=1777"],
        secrets=[NS(source="token", target=None, uid=None, gid=None, mode=None)],
    )
    anonymous: dict[str, str] = {}
    mounts = {m.target: m for m in service_mounts(stack, svc, "p-web-1", anonymous=anonymous)}
    assert mounts["/app"].source == str(tmp_path / "app") and mounts["/app"].read_only
    assert (tmp_path / "app").is_dir()  # missing bind source created
    assert mounts["/data"].source == str(volume_data("p_data"))
    assert len(anonymous["/cache"]) == 64  # a new one, named as docker names them
    assert mounts["/cache"].source == str(volume_data(anonymous["/cache"]))
    assert (mounts["/tmp"].type, mounts["/tmp"].size, mounts["/tmp"].mode) == (
        "tmpfs",
        64 * 1024**2,
        0o1777,
    )
    assert mounts["/run/secrets/token"].read_only
    assert Path(mounts["/run/secrets/token"].source).read_text() == "s3cret"


def test_volumes_from_repeats_the_other_service_mounts_read_only_when_asked(tmp_path):
    stack, _ = stack_with(tmp_path, volumes=[vol("volume", "data", "/data")])
    side = NS(name="side", volumes=[], tmpfs=[], volumes_from=["web:ro"], secrets=[], configs=[])
    stack.services["side"] = side
    mounts = service_mounts(stack, side, "p-side-1")
    assert [(m.target, m.source, m.read_only) for m in mounts] == [
        ("/data", str(volume_data("p_data")), True)
    ]


def test_volumes_from_shares_the_other_containers_anonymous_volumes(tmp_path):
    stack, _ = stack_with(tmp_path, volumes=[vol("volume", None, "/cache")])
    side = NS(name="side", volumes=[], tmpfs=[], volumes_from=["web"], secrets=[], configs=[])
    stack.services["side"] = side
    web = {"/cache": "a" * 64}
    mounts = service_mounts(stack, side, "p-side-1", shared=lambda s: web if s == "web" else {})
    assert [(m.target, m.source) for m in mounts] == [("/cache", str(volume_data("a" * 64)))]


def test_image_volumes_get_anonymous_volumes_with_the_image_content(tmp_path):
    """Docker: an image's VOLUME path is an anonymous volume, seeded from the image, unless
    the service mounts something there; a successor given its predecessor's anonymous
    volumes (from the record's mounts) finds the data again, a new container starts afresh."""
    stack, svc = stack_with(tmp_path, volumes=[vol("volume", "data", "/data")], tmpfs=["/tmp"])
    root = layer(tmp_path / "l1", {"var/lib/db/seed": "from image"})
    image_volumes = ("/var/lib/db/", "/data", "/tmp")
    mounts = service_mounts(stack, svc, "p-web-1", [root], image_volumes=image_volumes)
    by_target = {m.target: m for m in mounts}
    inherited = anonymous_mounts(f"{m.source}:{m.target}" for m in mounts)
    anon = volume_data(inherited["/var/lib/db"])
    assert by_target["/var/lib/db"].source == str(anon) and list(inherited) == ["/var/lib/db"]
    assert (anon / "seed").read_text() == "from image"
    assert by_target["/data"].source == str(volume_data("p_data"))  # the service's wins
    assert [m.target for m in mounts].count("/tmp") == 1
    (anon / "seed").write_text("written by the container")
    again = service_mounts(stack, svc, "p-web-1", [root], (), image_volumes, dict(inherited))
    assert {m.target: m for m in again}["/var/lib/db"].source == str(anon)
    assert (anon / "seed").read_text() == "written by the container"
    fresh = service_mounts(stack, svc, "p-web-1", [root], image_volumes=image_volumes)
    assert {m.target: m for m in fresh}["/var/lib/db"].source != str(anon)
