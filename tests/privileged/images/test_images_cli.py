"""The image commands through the real CLI entry point, against the local registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compose.cli import run
from compose.images import ImageStore

pytestmark = [pytest.mark.privileged, pytest.mark.registry]


def _stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, services: dict[str, str]) -> None:
    lines = ["services:"]
    for name, image in services.items():
        lines += [f"  {name}:", f"    image: {image}"]
    (tmp_path / "compose.yaml").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)


def test_pull_reports_service_reference_and_answer(registry, tmp_path, monkeypatch, capsys):
    _stack(
        tmp_path, monkeypatch, {"web": registry.ref("python:3.11"), "db": registry.ref("nosuch:1")}
    )
    assert run(["pull"]) == 1
    err = capsys.readouterr().err
    expected = (
        f'error: service "db": {registry.ref("nosuch:1")}: 404 MANIFEST_UNKNOWN: manifest unknown'
    )
    assert expected in err.splitlines()
    assert ImageStore().has(registry.ref("python:3.11"))


def test_pull_images_and_image_subcommands(registry, tmp_path, monkeypatch, capsys):
    _stack(
        tmp_path, monkeypatch, {"web": registry.ref("python:3.11"), "db": registry.ref("redis:7")}
    )
    assert run(["pull", "-q"]) == 0
    assert run(["images", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["Service"], r["Tag"]) for r in rows] == [("db", "7"), ("web", "3.11")]
    assert run(["image", "ls"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "SIZE"]
    assert len(listing) == 3
    assert run(["image", "rm", registry.ref("python:3.11")]) == 0
    assert "Deleted: layer" in capsys.readouterr().out
    assert ImageStore().has(registry.ref("redis:7"))
    assert run(["image", "inspect", registry.ref("redis:7")]) == 0
    doc = json.loads(capsys.readouterr().out)[0]
    assert doc["Config"]["ExposedPorts"] == {"6379/tcp": {}}


def test_image_load_and_missing_image(test_images, capsys):
    assert run(["image", "load", "-i", str(test_images / "busybox-save.tar")]) == 0
    assert "Loaded image: docker.io/library/busybox:latest" in capsys.readouterr().out
    assert run(["image", "inspect", "nosuch:1"]) == 1
    assert "error: No such image: nosuch:1" in capsys.readouterr().err


def test_image_ids_resolve_and_remove(registry, capsys):
    assert run(["image", "pull", "-q", registry.ref("redis:7")]) == 0
    image = ImageStore().resolve(registry.ref("redis:7"))
    short = image.config_digest.split(":")[1][:12]
    assert ImageStore().resolve(short).ref == f"{registry.host}/redis:7"
    assert run(["image", "rm", short]) == 0
    assert f"Untagged: {short}" in capsys.readouterr().out
    assert not ImageStore().has(registry.ref("redis:7"))
