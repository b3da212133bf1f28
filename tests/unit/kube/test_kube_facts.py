"""What the converter reads from outside the model: the local image store and the files."""

from __future__ import annotations

import socket
from pathlib import Path

from kube_helpers import load, main_container, one, write_stack

from compose.images import ImageStore, load_archive
from compose.kube import KubeOptions, convert, gather
from compose.kube.facts import CONFIGMAP_MAX, read_file
from tests.images import oci


def _store_with_image(tmp_path: Path) -> ImageStore:
    root = tmp_path / "rootfs"
    (root / "srv").mkdir(parents=True)
    (root / "srv" / "app").write_text("app")
    layout = tmp_path / "layout"
    layer = oci.make_layer(root, layout / "blobs")
    config = {
        "ExposedPorts": {"8080/tcp": {}, "9090/udp": {}},
        "Healthcheck": {"Test": ["CMD", "/srv/app", "--health"], "Interval": 5_000_000_000},
    }
    descriptor = oci.write_manifest(layout / "blobs", oci.ImageSpec("app", "1", [layer], config))
    oci.write_layout(layout, [("app:1", descriptor)])
    store = ImageStore(tmp_path / "store")
    load_archive(layout, store=store)
    return store


def test_an_image_in_the_local_store_gives_its_expose_and_healthcheck(tmp_path: Path) -> None:
    store = _store_with_image(tmp_path)
    stack = load(write_stack(tmp_path, "services: {web: {image: 'app:1'}}\n"))
    conversion = convert(stack, KubeOptions(), gather(stack, store))
    ports = one(conversion, "Service", "web")["spec"]["ports"]
    assert [(p["port"], p["protocol"]) for p in ports] == [(8080, "TCP"), (9090, "UDP")]
    probe = main_container(one(conversion, "Deployment", "web"))["readinessProbe"]
    assert probe["exec"]["command"] == ["/srv/app", "--health"]
    assert probe["periodSeconds"] == 5
    assert not [w for w in conversion.warnings if "no port is known" in w]


def test_an_image_not_in_the_store_is_simply_unknown(tmp_path: Path) -> None:
    stack = load(write_stack(tmp_path, "services: {web: {image: 'other:1'}}\n"))
    assert gather(stack, ImageStore(tmp_path / "empty")).images == {}


def test_file_kinds(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "small").write_text("x")
    (tmp_path / "big").write_bytes(b"0" * (CONFIGMAP_MAX + 1))
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "api.sock"))
        assert read_file(tmp_path / "api.sock").kind == "socket"
    assert read_file(tmp_path / "dir").kind == "dir"
    assert read_file(tmp_path / "small").data == b"x"
    big = read_file(tmp_path / "big")
    assert (big.kind, big.data, big.size) == ("file", None, CONFIGMAP_MAX + 1)
    assert read_file(tmp_path / "nothing").kind == "missing"
