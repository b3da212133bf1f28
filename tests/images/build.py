"""Build the test images (busybox:latest, python:3.11, redis:7, nginx:1) from Debian packages.

Layers: ``base`` (merged-/usr symlinks, /etc/passwd, /etc/group, /tmp) and ``busybox``
(busybox-static + applet links: every image has /bin/sh and the usual tools, as Debian-based
official images do) shared by all three, ``libc`` shared by python and redis, then one layer
for the application (nginx: set up like Docker's official image, see ``_nginx_extra``).
Everything lands in
one OCI image layout ``<out>/oci`` whose index names ``busybox:latest``, ``python:3.11``,
``redis:7`` and ``busybox:index`` (an OCI index with linux/amd64 and linux/arm64 entries); plus
``<out>/busybox-save.tar``, a ``docker save`` archive of busybox:latest. Cached: a second build
with the same package versions returns at once and yields the same digests.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.images import debs, oci, postgres

DEFAULT_OUT = Path(__file__).resolve().parent / "_cache"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LIBC_ROOTS = ["libc6", "libssl3", "zlib1g"]
PY_PRUNE = ("test", "idlelib", "ensurepip", "tkinter", "lib2to3", "pydoc_data", "turtledemo")
SHARE_PRUNE = ("doc", "man", "locale", "lintian", "info", "bug", "doc-base")
TAGS = ("busybox:latest", "python:3.11", "redis:7", "nginx:1", "postgres:15")
RECIPE_KEY = "_recipe"
RECIPE = "5"  # bump when the image contents change: cached builds are redone

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n"


def _base_root(root: Path) -> None:
    for name in ("usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "etc", "var/tmp", "root", "tmp"):
        (root / name).mkdir(parents=True, exist_ok=True)
    for name in ("bin", "sbin", "lib", "lib64"):
        (root / name).symlink_to(f"usr/{name}")
    (root / "etc/passwd").write_text(PASSWD)
    (root / "etc/group").write_text(GROUP)
    (root / "etc/nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")
    os.chmod(root / "tmp", 0o1777)
    os.chmod(root / "var/tmp", 0o1777)
    os.chmod(root / "root", 0o700)


def _prune(root: Path) -> None:
    for name in SHARE_PRUNE:
        shutil.rmtree(root / "usr/share" / name, ignore_errors=True)
    for name in PY_PRUNE:
        shutil.rmtree(root / "usr/lib/python3.11" / name, ignore_errors=True)
    for cache in list(root.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    for sub in ("etc/init.d", "etc/logrotate.d", "usr/lib/systemd", "etc/systemd"):
        shutil.rmtree(root / sub, ignore_errors=True)


def _busybox_links(root: Path) -> None:
    binary = root / "usr/bin/busybox"
    listing = subprocess.run(
        [str(binary), "--list-full"], capture_output=True, text=True, check=True
    )
    for entry in sorted(set(listing.stdout.split())):
        parts = entry.split("/")
        rel = Path("usr", *parts) if parts[0] in ("bin", "sbin") else Path(*parts)
        link = root / rel
        if link.exists() or link.is_symlink():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/usr/bin/busybox")


def _python_extra(root: Path) -> None:
    (root / "usr/bin/python3").symlink_to("python3.11")
    (root / "usr/bin/python").symlink_to("python3.11")


def _python_bytecode(root: Path) -> None:
    """The standard library's .pyc files, as the official image has them (Debian compiles them
    at install): without, each fresh container compiles what it imports (``import http.server``
    0.34 s instead of 0.07 s). Unchecked hashes: the layer's mtimes are normalized, and an
    image's sources never change under it."""
    lib = root / "usr/lib/python3.11"
    if sys.version_info[:2] != (3, 11) or not lib.is_dir():
        return  # another interpreter's bytecode would be ignored anyway
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-j0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(root),
            "-p",
            "/",
            "-x",
            "/(site|dist)-packages/",
            str(lib),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


NGINX_CONF = """user www-data;
worker_processes auto;
error_log /var/log/nginx/error.log notice;
pid /run/nginx.pid;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" "$http_user_agent"';
    access_log /var/log/nginx/access.log main;
    sendfile on;
    keepalive_timeout 65;
    include /etc/nginx/conf.d/*.conf;
}
"""
NGINX_DEFAULT = """server {
    listen 80;
    listen [::]:80;
    server_name localhost;
    location / {
        root /usr/share/nginx/html;
        index index.html;
    }
}
"""


def _nginx_extra(root: Path) -> None:
    """As Docker's official nginx image: the stack's own ``conf.d/*.conf`` is the whole site
    (``default.conf`` serves /usr/share/nginx/html), logs go to the container's stdout/stderr,
    the workers run as www-data. Debian's sites-*, modules-* and postinst steps are left out."""
    etc = root / "etc/nginx"
    for name in ("sites-available", "sites-enabled", "modules-available", "modules-enabled"):
        shutil.rmtree(etc / name, ignore_errors=True)
    (etc / "nginx.conf").write_text(NGINX_CONF)
    (etc / "conf.d").mkdir(exist_ok=True)
    (etc / "conf.d/default.conf").write_text(NGINX_DEFAULT)
    html = root / "usr/share/nginx/html"
    html.mkdir(parents=True, exist_ok=True)
    (html / "index.html").write_text("<h1>Welcome to nginx!</h1>\n")
    logs = root / "var/log/nginx"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "access.log").symlink_to("/dev/stdout")
    (logs / "error.log").symlink_to("/dev/stderr")
    for name in ("var/lib/nginx", "run", "var/www"):
        (root / name).mkdir(parents=True, exist_ok=True)
    (root / "etc/passwd").write_text(PASSWD + "www-data:x:33:33:www-data:/var/www:/bin/false\n")
    (root / "etc/group").write_text(GROUP + "www-data:x:33:\n")


def _redis_extra(root: Path) -> None:
    (root / "data").mkdir()
    shutil.rmtree(root / "etc/redis", ignore_errors=True)


class Builder:
    def __init__(self, out: Path, log: bool = True) -> None:
        self.out = out
        self.layout = out / "oci"
        self.blobs = self.layout / "blobs"
        self.debs_dir = out / "debs"
        self.log = log

    def say(self, text: str) -> None:
        if self.log:
            print(f"[images] {text}", flush=True)

    def layer_from_packages(
        self, label: str, packages: list[str], extra=None, compiled=None
    ) -> oci.Layer:
        files = debs.download(packages, self.debs_dir)
        self.say(f"{label}: {len(packages)} packages: {' '.join(packages)}")
        with tempfile.TemporaryDirectory(dir=self.out) as tmp:
            root = Path(tmp) / "root"
            debs.extract([files[p] for p in packages], root)
            if extra:
                extra(root)
            _prune(root)
            if compiled:  # after the prune, which drops the packages' stale caches
                compiled(root)
            return oci.make_layer(root, self.blobs)

    def base_layer(self) -> oci.Layer:
        with tempfile.TemporaryDirectory(dir=self.out) as tmp:
            root = Path(tmp) / "root"
            root.mkdir()
            _base_root(root)
            return oci.make_layer(root, self.blobs)

    def build(self) -> dict[str, str]:
        started = time.monotonic()
        self.blobs.mkdir(parents=True, exist_ok=True)
        base = self.base_layer()
        libc_pkgs = debs.closure(LIBC_ROOTS)
        libc = self.layer_from_packages("libc", libc_pkgs)
        bb = self.layer_from_packages("busybox", ["busybox-static"], _busybox_links)
        py_pkgs = debs.closure(["python3.11-minimal", "libpython3.11-stdlib"], libc_pkgs)
        py = self.layer_from_packages("python", py_pkgs, _python_extra, _python_bytecode)
        rd_pkgs = debs.closure(["redis-server", "redis-tools"], libc_pkgs)
        rd = self.layer_from_packages("redis", rd_pkgs, _redis_extra)
        ngx_pkgs = debs.closure(["nginx"], [*libc_pkgs, "iproute2"])  # ip(8): not needed
        ngx = self.layer_from_packages("nginx", ngx_pkgs, _nginx_extra)
        pg_pkgs = debs.closure(postgres.PACKAGES, [*libc_pkgs, *postgres.EXCLUDE]) + postgres.ALSO
        pg = self.layer_from_packages("postgres", pg_pkgs, postgres.prune)
        pg_setup = postgres.setup_layer(self.blobs, PASSWD, GROUP)
        specs = [
            oci.ImageSpec("busybox", "latest", [base, bb], {"Env": [PATH_ENV], "Cmd": ["sh"]}),
            oci.ImageSpec("python", "3.11", [base, bb, libc, py], _python_config()),
            oci.ImageSpec("redis", "7", [base, bb, libc, rd], _redis_config()),
            oci.ImageSpec("nginx", "1", [base, bb, libc, ngx], _nginx_config()),
            oci.ImageSpec(
                "postgres", "15", [base, bb, libc, pg, pg_setup], postgres.config(PATH_ENV)
            ),
        ]
        entries = [(f"{s.name}:{s.tag}", oci.write_manifest(self.blobs, s)) for s in specs]
        entries.append(("busybox:index", self.index_of(specs[0])))
        oci.write_layout(self.layout, entries)
        oci.write_docker_save(
            self.layout, entries[0][1], "busybox:latest", self.out / "busybox-save.tar"
        )
        digests = {tag: str(desc["digest"]) for tag, desc in entries}
        digests[RECIPE_KEY] = RECIPE
        (self.out / "built.json").write_text(json.dumps(digests, indent=1, sort_keys=True))
        self.say(
            f"built {len(entries)} images in {time.monotonic() - started:.1f}s into {self.layout}"
        )
        return digests

    def index_of(self, spec: oci.ImageSpec) -> dict[str, object]:
        manifests = []
        for arch in ("arm64", "amd64"):
            desc = oci.write_manifest(self.blobs, spec, arch)
            manifests.append({**desc, "platform": {"architecture": arch, "os": "linux"}})
        doc = {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": manifests}
        digest, size = oci.put_json(self.blobs, doc)
        return oci.descriptor(oci.OCI_INDEX, digest, size)


def _python_config() -> dict[str, object]:
    return {"Env": [PATH_ENV, "LANG=C.UTF-8"], "Cmd": ["python3"]}


def _redis_config() -> dict[str, object]:
    return {
        "Env": [PATH_ENV],
        "Cmd": ["redis-server"],
        "WorkingDir": "/data",
        "ExposedPorts": {"6379/tcp": {}},
        "Volumes": {"/data": {}},
    }


def _nginx_config() -> dict[str, object]:
    return {
        "Env": [PATH_ENV],
        "Cmd": ["nginx", "-g", "daemon off;"],
        "ExposedPorts": {"80/tcp": {}},
        "StopSignal": "SIGQUIT",
    }


def build(out: Path | None = None, *, force: bool = False, log: bool = True) -> Path:
    """Build (or reuse) the test images; returns the cache dir holding ``oci/``."""
    out = (out or DEFAULT_OUT).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "build.lock", "a") as lock:  # concurrent test sessions build once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if force or built_digests(out).get(RECIPE_KEY) != RECIPE:
            shutil.rmtree(out / "oci", ignore_errors=True)
            (out / "built.json").unlink(missing_ok=True)
            Builder(out, log).build()
    return out


def built_digests(out: Path) -> dict[str, str]:
    """tag -> manifest digest of the last build ({} if none)."""
    try:
        return json.loads((out / "built.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}
