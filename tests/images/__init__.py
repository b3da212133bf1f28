"""Test images built from Debian packages, and a real local registry serving them.

Command line (used by the README demo and CI)::

    python -m tests.images build [--out DIR] [--force]
        apt-get download + dpkg-deb -x -> OCI layout DIR/oci (default tests/images/_cache/):
        busybox:latest (busybox-static + applet links, /etc/passwd + /etc/group with root and
        nobody), python:3.11 (python3.11 minimal + stdlib; Cmd ["python3"]), redis:7
        (redis-server + redis-cli; Cmd ["redis-server"], ExposedPorts 6379/tcp, WorkingDir and
        Volumes /data), nginx:1 (Debian's nginx laid out as Docker's official image:
        conf.d/*.conf is the site, logs to stdout/stderr, Cmd ["nginx", "-g", "daemon off;"],
        StopSignal SIGQUIT), busybox:index (OCI index, linux/amd64 + linux/arm64), plus
        DIR/busybox-save.tar (a docker save archive). Layers are shared: base and busybox (all
        of them: every image has /bin/sh), libc (python, redis, nginx). Deterministic (fixed
        mtimes, sorted entries); cached (tests.images.build.RECIPE invalidates old builds).
    python -m tests.images serve --port 5000 [--dir DIR] [--out CACHE] [--htpasswd]
        builds if needed, starts Debian's docker-registry on 127.0.0.1:PORT in the background
        (storage, config, log and registry.pid in DIR, default tests/images/_cache/registry),
        pushes busybox:latest, python:3.11 (= python:3.11-slim), redis:7, nginx:1 (Docker v2
        schema 2), each also as library/<name> (so a daemon.json registry-mirrors entry
        pointing at it serves plain ``redis:7``), busybox:oci (OCI manifest), busybox:index
        (OCI index), busybox:list (Docker manifest list); prints the registry pid.
        --htpasswd: basic auth as tests.images.registry.USER / PASSWORD.
    python -m tests.images stop [--dir DIR]
        stops that registry by the pid in DIR/registry.pid.

pytest: import the fixtures into your test directory's conftest.py::

    from tests.images.fixtures import (  # noqa: F401
        auth_registry, registry, test_images, token_registry,
    )

    def test_x(registry):
        image = compose.images.pull(registry.ref("redis:7"))

``registry`` (no auth) and ``auth_registry`` (htpasswd basic auth) are session-scoped
``tests.images.registry.Server`` objects (``host``, ``port``, ``ref(name)``, ``creds``);
``token_registry`` is ``(Server, tests.images.tokenauth.TokenServer)``: bearer tokens from a
realm on loopback, as Docker Hub does (``private/*`` needs credentials). The first session on
a fresh machine spends ~30 s building the images (apt-get download included); later sessions
reuse the cache.
"""
