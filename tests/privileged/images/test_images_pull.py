"""Pulls from a real docker-registry on 127.0.0.1 (tests.images fixtures)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from compose import paths
from compose.errors import ImageError
from compose.images import ImageStore, ensure_image, pull
from compose.images.push import push_manifest
from compose.images.settings import RegistrySettings
from tests.images import oci

pytestmark = [pytest.mark.privileged, pytest.mark.registry]


@pytest.mark.parametrize("tag", ["latest", "oci", "index", "list"])
def test_pull_each_manifest_kind(registry, tag: str) -> None:
    image = pull(registry.ref(f"busybox:{tag}"), platform="linux/amd64")
    assert image.config.cmd == ("sh",)
    assert image.platform == "linux/amd64"
    top = image.layers[-1]
    assert (top / "usr/bin/busybox").is_file()
    assert os.readlink(top / "usr/bin/wget") == "/usr/bin/busybox"
    assert (image.layers[0] / "etc/passwd").read_text().startswith("root:x:0:0:")
    assert ImageStore().resolve(registry.ref(f"busybox:{tag}")).digest == image.digest


def test_index_platform_choice(registry) -> None:
    arm = pull(registry.ref("busybox:index"), platform="linux/arm64")
    amd = pull(registry.ref("busybox:list"), platform="linux/amd64")
    assert (arm.platform, amd.platform) == ("linux/arm64", "linux/amd64")
    with pytest.raises(ImageError, match="no matching manifest for linux/s390x"):
        pull(registry.ref("busybox:index"), platform="linux/s390x")


def test_three_images_share_layers_on_disk(registry) -> None:
    images = [pull(registry.ref(n)) for n in ("busybox:latest", "python:3.11", "redis:7")]
    bb, py, rd = images
    assert bb.layers == py.layers[:2] == rd.layers[:2]  # base + busybox, one directory each
    assert py.layers[2] == rd.layers[2]  # libc layer
    layer_dirs = sorted((paths.images_dir() / "layers").iterdir())
    assert len(layer_dirs) == 5
    assert rd.config.exposed_ports == ("6379/tcp",)
    assert rd.config.working_dir == "/data" and rd.config.volumes == ("/data",)
    assert (py.layers[3] / "usr/lib/python3.11/http/server.py").is_file()
    assert (rd.layers[3] / "usr/bin/redis-cli").is_file()


def test_missing_image_names_reference_and_registry_answer(registry) -> None:
    with pytest.raises(ImageError) as err:
        pull(registry.ref("nosuch:1"))
    assert str(err.value) == f"{registry.ref('nosuch:1')}: 404 MANIFEST_UNKNOWN: manifest unknown"
    with pytest.raises(ImageError, match="404 MANIFEST_UNKNOWN"):
        pull(registry.ref("busybox:nosuchtag"))


def test_auth_success_and_failures(auth_registry, monkeypatch, tmp_path: Path) -> None:
    ref = auth_registry.ref("busybox:latest")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    with pytest.raises(ImageError, match="unauthorized: authentication required") as err:
        pull(ref)
    assert "config.json" in (err.value.hint or "")
    _docker_config(tmp_path, auth_registry.host, "pycompose", "wrong")
    with pytest.raises(ImageError, match="unauthorized: incorrect username or password") as err:
        pull(ref)
    assert err.value.hint == f"check the credentials for {auth_registry.host}"
    _docker_config(tmp_path, auth_registry.host, *auth_registry.creds)
    assert pull(ref).config.cmd == ("sh",)


def _docker_config(directory: Path, host: str, user: str, password: str) -> None:
    import base64

    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {host: {"auth": token}}}))


def test_docker_hub_mirror_from_daemon_json(registry) -> None:
    (paths.config_dir() / "daemon.json").write_text(
        json.dumps({"registry-mirrors": [f"http://{registry.host}"]})
    )
    image = pull("busybox")
    assert image.ref == "docker.io/library/busybox:latest"
    assert ImageStore().has("busybox:latest")
    assert pull("python:3.11-slim").config.cmd == ("python3",)


def _push_unique_image(registry, tmp_path: Path, name: str) -> tuple[str, oci.Layer, Path]:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/unique").write_bytes(os.urandom(3 << 20))  # > 1 chunk, incompressible
    blobs = tmp_path / "blobs"
    layer = oci.make_layer(root, blobs)
    spec = oci.ImageSpec(name, "1", [layer], {"Cmd": ["true"]})
    desc = oci.write_manifest(blobs, spec)
    body = (blobs / "sha256" / str(desc["digest"]).split(":")[1]).read_bytes()
    ref = registry.ref(f"{name}:1")
    push_manifest(blobs, ref, body, oci.OCI_MANIFEST, settings=RegistrySettings())
    return ref, layer, Path(registry.dir)


def _registry_blob(storage: Path, digest: str) -> Path:
    hexd = digest.split(":")[1]
    return storage / "storage/docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"


def test_wrong_layer_digest_is_refused(registry, tmp_path: Path) -> None:
    name = f"corrupt{uuid.uuid4().hex[:8]}"
    ref, layer, storage = _push_unique_image(registry, tmp_path, name)
    data = _registry_blob(storage, layer.digest)
    content = bytearray(data.read_bytes())
    content[-100] ^= 0xFF
    data.write_bytes(bytes(content))
    with pytest.raises(ImageError, match="digest mismatch"):
        pull(ref)
    store = ImageStore()
    assert not store.blob_path(layer.digest).exists()
    assert not (paths.images_dir() / "layers").exists() or not any(
        (paths.images_dir() / "layers").iterdir()
    )
    assert not store.has(ref)


def test_pull_by_digest_checks_manifest(registry) -> None:
    good = pull(registry.ref("busybox:latest"))
    pinned = registry.ref(f"busybox@{good.digest}")
    assert pull(pinned).digest == good.digest
    other = "sha256:" + "0" * 64
    with pytest.raises(ImageError, match=r"404 MANIFEST_UNKNOWN"):
        pull(registry.ref(f"busybox@{other}"))


KILLER = """
import os, signal, sys
from compose.images import pull
from compose.images.progress import PullProgress

class Die(PullProgress):
    seen = 0
    def layer_advance(self, digest, n):
        Die.seen += n
        if Die.seen > (1 << 20):
            os.kill(os.getpid(), signal.SIGKILL)

pull(sys.argv[1], progress=Die())
"""


def test_killed_pull_is_followed_by_a_good_pull(registry, tmp_path: Path) -> None:
    ref, layer, _ = _push_unique_image(registry, tmp_path, f"killed{uuid.uuid4().hex[:8]}")
    proc = subprocess.run([sys.executable, "-c", KILLER, ref], env=os.environ.copy())
    assert proc.returncode == -9
    store = ImageStore()
    assert not store.has(ref)
    assert not store.blob_path(layer.digest).exists()  # nothing looks complete
    leftovers = list(store.tmp.iterdir())
    assert leftovers  # the partial download, resumed by the next pull
    image = pull(ref)
    assert (image.layers[0] / "etc/unique").stat().st_size == 3 << 20
    assert not [p for p in store.tmp.iterdir() if p.name.startswith("download-")]


def test_image_rm_keeps_shared_layers_and_prune(registry) -> None:
    store = ImageStore()
    py = pull(registry.ref("python:3.11"), store=store)
    rd = pull(registry.ref("redis:7"), store=store)
    removed = store.remove(registry.ref("python:3.11"))
    assert any(r.startswith("layer") for r in removed)
    assert not py.layers[3].exists()
    assert all(p.is_dir() for p in rd.layers)  # shared base + libc kept
    assert store.resolve(registry.ref("redis:7")).layers == rd.layers
    (store.tmp / "junk").write_text("x")
    store.prune()
    assert not (store.root / "tmp").exists()
    assert store.has(registry.ref("redis:7"))


def test_ensure_image_policies(registry) -> None:
    ref = registry.ref("busybox:latest")
    with pytest.raises(ImageError, match="No such image"):
        ensure_image(ref, policy="never")
    first = ensure_image(ref, policy="missing")
    assert ensure_image(ref, policy="never").digest == first.digest
    assert ensure_image(ref, policy="always").digest == first.digest
    assert ensure_image(ref, policy="daily").digest == first.digest


def test_load_docker_save_and_oci_layout(test_images: Path) -> None:
    from compose.images import load_archive

    saved = load_archive(test_images / "busybox-save.tar")
    assert [i.ref for i in saved] == ["docker.io/library/busybox:latest"]
    layout = load_archive(test_images / "oci")
    refs = sorted(i.ref for i in layout)
    assert "docker.io/library/redis:7" in refs and "docker.io/library/python:3.11" in refs
    assert saved[0].layers == ImageStore().resolve("busybox").layers  # same diff ids, shared


def test_skopeo_reads_what_we_pushed(registry) -> None:
    import shutil

    if not shutil.which("skopeo"):
        pytest.skip("skopeo missing (run .ci/setup)")
    out = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", f"docker://{registry.ref('redis:7')}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["Architecture"] == "amd64"


def test_tampered_manifest_is_refused(registry, tmp_path: Path) -> None:
    name = f"tampered{uuid.uuid4().hex[:8]}"
    ref, _, storage = _push_unique_image(registry, tmp_path, name)
    manifest_digest = pull(ref).digest
    data = _registry_blob(storage, manifest_digest)
    body = data.read_bytes()
    assert b'{"config"' in body or b'"config"' in body
    data.write_bytes(body.replace(b",", b" ,", 1))  # still valid JSON, other digest
    with pytest.raises(ImageError, match="manifest digest mismatch"):
        pull(ref)


def test_load_oci_archive_tar(test_images: Path, tmp_path: Path) -> None:
    import tarfile

    from compose.images import load_archive

    archive = tmp_path / "oci.tar"
    with tarfile.open(archive, "w") as tar:
        for item in ("oci-layout", "index.json", "blobs"):
            tar.add(test_images / "oci" / item, item)
    loaded = {i.ref: i for i in load_archive(archive)}
    assert loaded["docker.io/library/redis:7"].config.cmd == ("redis-server",)


def test_bearer_token_auth_like_docker_hub(token_registry, monkeypatch, tmp_path: Path) -> None:
    server, tokens = token_registry
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    tokens.requests.clear()
    image = pull(server.ref("redis:7"))  # anonymous token from the challenge's realm
    assert image.config.cmd == ("redis-server",)
    first = tokens.requests[0]
    assert (first["service"], first["scope"], first["user"]) == (
        "pycompose-test-registry",
        "repository:redis:pull",
        "",
    )
    assert len(tokens.requests) == 1  # one token served the manifest and every blob
    with pytest.raises(ImageError, match="unauthorized: authentication required"):
        pull(server.ref("private/app:1"))
    _docker_config(tmp_path, server.host, "pycompose", "wrong")
    with pytest.raises(ImageError, match="incorrect username or password"):
        pull(server.ref("private/app:1"))
    _docker_config(tmp_path, server.host, *auth_creds())
    with pytest.raises(ImageError, match=r"404 (NAME|MANIFEST)_UNKNOWN"):
        pull(server.ref("private/app:1"))  # authorized now: the registry's own answer


def auth_creds() -> tuple[str, str]:
    from tests.images.registry import PASSWORD, USER

    return USER, PASSWORD
