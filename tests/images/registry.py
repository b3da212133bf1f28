"""Debian's ``docker-registry`` (the CNCF distribution server) on 127.0.0.1, filled with the
test images.

``serve`` starts it in the background (its own session, so it outlives the caller), writes
``registry.pid`` into its directory and pushes:

    busybox:latest, python:3.11, redis:7,     Docker v2 schema 2 manifests
    nginx:1
    python:3.11-slim                          the same as python:3.11
    library/<each of the above>               the same again, so that with daemon.json
                                              {"registry-mirrors": ["http://127.0.0.1:PORT"]}
                                              plain ``redis:7`` resolves through the mirror
    busybox:oci                               OCI image manifest
    busybox:index                             OCI index (linux/arm64 + linux/amd64)
    busybox:list                              Docker manifest list (same two platforms)

With ``auth=True`` it requires HTTP basic auth (htpasswd, bcrypt) as USER / PASSWORD.
``stop`` ends it by the pid in its pid file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.images import build as builder

USER, PASSWORD = "pycompose", "s3cret-pass"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ALIASES = {"python:3.11": ("python:3.11-slim",)}  # the web-db example's default image


@dataclass(frozen=True)
class Server:
    pid: int
    port: int
    dir: Path
    auth: bool = False

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ref(self, name: str) -> str:
        """``ref("busybox:latest")`` -> ``127.0.0.1:PORT/busybox:latest``."""
        return f"{self.host}/{name}"

    @property
    def creds(self) -> tuple[str, str] | None:
        return (USER, PASSWORD) if self.auth else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _htpasswd(path: Path) -> None:
    if shutil.which("htpasswd"):
        out = subprocess.run(
            ["htpasswd", "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True
        ).stdout
    else:  # glibc's libxcrypt speaks bcrypt too
        import crypt

        out = f"{USER}:{crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH))}\n"
    path.write_text(out.strip() + "\n")


def _config(directory: Path, port: int, auth: bool, token_auth: list[str] | None) -> Path:
    lines = [
        "version: 0.1",
        "log: {level: warn, accesslog: {disabled: true}}",
        "storage:",
        f"  filesystem: {{rootdirectory: {directory / 'storage'}}}",
        "  delete: {enabled: true}",
        "  maintenance: {uploadpurging: {enabled: false}}",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        "  secret: pycompose-test-secret",
    ]
    if auth:
        _htpasswd(directory / "htpasswd")
        lines += ["auth:", f"  htpasswd: {{realm: pycompose-test, path: {directory / 'htpasswd'}}}"]
    elif token_auth:
        lines += token_auth
    path = directory / "config.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _start(directory: Path, config: Path) -> int:
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    with open(directory / "registry.log", "ab") as log:
        proc = subprocess.Popen(
            [binary, "serve", str(config)],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (directory / "registry.pid").write_text(f"{proc.pid}\n")
    return proc.pid


def _wait_ready(server: Server, timeout: float = 15.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(server.pid):
            log = (server.dir / "registry.log").read_text()[-2000:]
            raise RuntimeError(f"docker-registry exited early:\n{log}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{server.host}/v2/", timeout=1).status_code in (200, 401):
                return
        time.sleep(0.05)
    raise RuntimeError(f"docker-registry on {server.host} not ready after {timeout}s")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            return False
    return True


def _docker_manifest(doc: dict) -> dict:
    return {
        **doc,
        "mediaType": DOCKER_MANIFEST,
        "config": {**doc["config"], "mediaType": DOCKER_CONFIG},
        "layers": [{**layer, "mediaType": DOCKER_LAYER} for layer in doc["layers"]],
    }


def _dump(doc: dict) -> bytes:
    return json.dumps(doc, indent=3).encode()


def push_test_images(server: Server, cache: Path) -> None:
    """Push every variant listed in the module docstring."""
    from compose.images.push import push_manifest
    from compose.images.settings import RegistrySettings

    blobs = cache / "oci" / "blobs"
    settings = RegistrySettings()

    def read(digest: str, raw: bool = False):
        data = (blobs / "sha256" / digest.split(":")[1]).read_bytes()
        return data if raw else json.loads(data)

    def push(target: str, body: bytes, media: str, children=()) -> None:
        push_manifest(
            blobs,
            server.ref(target),
            body,
            media,
            children=list(children),
            settings=settings,
            creds=server.creds,
        )

    index = json.loads((cache / "oci" / "index.json").read_text())
    by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
    for tag in builder.TAGS:
        body = _dump(_docker_manifest(read(by_tag[tag]["digest"])))
        for alias in (tag, *ALIASES.get(tag, ())):
            push(alias, body, DOCKER_MANIFEST)
            push(f"library/{alias}", body, DOCKER_MANIFEST)
    bb = read(by_tag["busybox:latest"]["digest"])
    push("busybox:oci", _dump(bb), OCI_MANIFEST)
    _push_indexes(push, by_tag["busybox:index"]["digest"], read)


def _push_indexes(push, index_digest: str, read) -> None:
    oci_index = read(index_digest)
    children = [(read(m["digest"], raw=True), OCI_MANIFEST) for m in oci_index["manifests"]]
    push("busybox:index", read(index_digest, raw=True), OCI_INDEX, children)
    docker_children = [
        (_dump(_docker_manifest(read(m["digest"]))), DOCKER_MANIFEST)
        for m in oci_index["manifests"]
    ]
    import hashlib

    entries = [
        {
            **m,
            "mediaType": DOCKER_MANIFEST,
            "digest": "sha256:" + hashlib.sha256(body).hexdigest(),
            "size": len(body),
        }
        for m, (body, _) in zip(oci_index["manifests"], docker_children, strict=True)
    ]
    doc = {"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": entries}
    push("busybox:list", _dump(doc), DOCKER_LIST, docker_children)


def default_dir() -> Path:
    return builder.DEFAULT_OUT / "registry"


def serve(
    port: int = 5000,
    directory: Path | None = None,
    *,
    cache: Path | None = None,
    auth: bool = False,
    token_auth: list[str] | None = None,
    log: bool = True,
) -> Server:
    """Start docker-registry on 127.0.0.1:``port`` and push the test images into it.

    ``auth``: htpasswd basic auth; ``token_auth``: the registry config lines of a bearer
    token server (``tests.images.tokenauth.TokenServer.registry_config()``)."""
    cache = builder.build(cache, log=log)
    directory = (directory or default_dir()).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    stop(directory)
    config = _config(directory, port, auth, token_auth)
    server = Server(_start(directory, config), port, directory, auth)
    try:
        _wait_ready(server)
        push_test_images(server, cache)
    except BaseException:
        stop(directory)
        raise
    return server


def stop(directory: Path | None = None, timeout: float = 5.0) -> None:
    """Stop the registry whose pid is in ``directory/registry.pid`` (no-op if none)."""
    pid_file = (directory or default_dir()) / "registry.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    if _alive(pid) and "docker-registry" in _cmdline(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@contextlib.contextmanager
def temporary(prefix: str = "pycompose-bench-registry-") -> Iterator[Server]:
    """A registry serving the (cached) test images on a free port, stopped on exit: what the
    benchmarks use when run as scripts, outside pytest's session ``registry`` fixture."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = serve(free_port(), Path(tmp), cache=builder.build(None, log=False), log=False)
        try:
            yield server
        finally:
            stop(Path(tmp))
