"""COPY's newer flags (--parents, --exclude, --link), inline Dockerfiles, additional contexts,
push to a registry and cache_from across stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compose.build.executor import Builder
from compose.build.request import BuildRequest
from compose.build.rootview import RootView
from compose.images import pull
from compose.images.pushimage import push_image
from compose.images.store import ImageStore


def test_parents_exclude_and_link(build) -> None:
    files = {"a/b/c.txt": "c", "a/b/d.log": "d", "a/x/y.txt": "y", "keep/k.txt": "k"}
    built = build(
        "FROM BUSYBOX\nCOPY --parents a/b/c.txt a/x/y.txt /p/\n"
        "COPY --parents ./a/./b/c.txt /pivot/\n"
        "COPY --exclude=**/*.log a /excluded\nCOPY --link keep/k.txt /tmp/linked\n",
        files,
    )
    assert built.read("/p/a/b/c.txt") == "c" and built.read("/p/a/x/y.txt") == "y"
    assert built.read("/pivot/b/c.txt") == "c"
    assert built.read("/excluded/b/c.txt") == "c" and built.stat("/excluded/b/d.log") is None
    assert built.read("/tmp/linked") == "k"
    # --link: the layer was made on an empty root, so /tmp in it is a new 0755 directory that
    # replaces the base's 1777 one (BuildKit's documented --link behaviour)
    assert built.stat("/tmp").st_mode & 0o7777 == 0o755


def test_link_layers_survive_a_changed_base(build, store) -> None:
    files = {"f": "payload"}
    first = build("FROM BUSYBOX\nRUN echo 1 > /base\nCOPY --link f /f\n", files)
    second = build("FROM BUSYBOX\nRUN echo 2 > /base\nCOPY --link f /f\n", files)
    assert second.result.cached == 1  # the RUN changed, the --link COPY did not
    assert first.image.layers[-1] == second.image.layers[-1]


def test_inline_dockerfile_and_additional_contexts(build, tmp_path: Path, busybox_store) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "shared.txt").write_text("from another context\n")
    base = busybox_store[1]
    built = build(
        "",  # the context's Dockerfile is not used
        dockerfile_inline=(
            f"FROM {base}\nCOPY --from=extra shared.txt /shared.txt\n"
            "COPY --from=tools /bin/busybox /tools/busybox\n"
        ),
        contexts={"extra": str(extra), "tools": f"docker-image://{base}"},
    )
    assert built.read("/shared.txt") == "from another context\n"
    assert built.stat("/tools/busybox") is not None


def test_push_then_pull_elsewhere_and_cache_from(build, store, registry, tmp_path: Path) -> None:
    ref = registry.ref("pushed/app:1")
    built = build("FROM BUSYBOX\nRUN echo pushed > /p\nCOPY f /f\n", {"f": "f"}, tags=(ref,))
    push_image(ref, store)
    other = ImageStore(tmp_path / "other-store")
    image = pull(ref, store=other)
    assert RootView(list(image.layers)).read_text("/p") == "pushed\n"
    assert other.read_json(image.config_digest)["rootfs"] == built.config["rootfs"]
    # the pulled image's cache keys make a build in the other store a cache hit
    ctx = tmp_path / "ctx"
    copy = tmp_path / "ctx2"
    shutil.copytree(ctx, copy)
    builder = Builder(other)
    try:
        result = builder.build(BuildRequest(context=copy, tags=("again",), cache_from=(ref,)))
    finally:
        builder.close()
    assert result.cached == result.steps == 2


@pytest.mark.parametrize("flag", ["no_cache"])
def test_no_cache_reruns_every_step(build, flag: str) -> None:
    dockerfile = "FROM BUSYBOX\nRUN cat /proc/sys/kernel/random/uuid > /t\n"
    first = build(dockerfile)
    second = build(dockerfile, **{flag: True})
    assert second.result.cached == 0 and second.read("/t") != first.read("/t")
