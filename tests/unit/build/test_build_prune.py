"""``builder prune``: what the dangling cache is (and what ``-a`` adds); docker's size format."""

from __future__ import annotations

import json
from pathlib import Path

from compose.build.cache import BuildCache, Record
from compose.build.prune import prune_build_cache
from compose.cli.commands.stats import human_size
from compose.images.store import ImageStore

USED, DANGLING = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def _store(tmp_path: Path) -> ImageStore:
    store = ImageStore(tmp_path / "images")
    cache = BuildCache(store)
    for diff_id, key in ((USED, "1" * 64), (DANGLING, "2" * 64)):
        layer = store.layer_path(diff_id)
        layer.mkdir(parents=True)
        (layer / "f").write_bytes(b"x" * 1000)
        cache.put(key, Record(diff_id, 1000, "2026-01-01T00:00:00Z"))
    doc = {"rootfs": {"type": "layers", "diff_ids": [USED]}, "config": {}}
    store.write_image(doc, [(USED, 1000)], ["example.test/app:latest"])
    (cache.git_dir / "0123abcd").mkdir(parents=True)
    (cache.mount_dir("pip") / "wheel").mkdir(parents=True)
    hashes = cache.hash_file(tmp_path)
    hashes.parent.mkdir(parents=True)
    hashes.write_text(json.dumps({}))
    return store


def _mount(store: ImageStore) -> str:
    return BuildCache(store).mount_dir("pip").name[:25]


def test_prune_removes_the_dangling_cache_and_keeps_what_an_image_uses(tmp_path):
    store = _store(tmp_path)
    pruned = prune_build_cache(store)
    assert set(pruned.objects) == {"2" * 25, "0123abcd", _mount(store)}
    assert not store.layer_path(DANGLING).exists() and store.layer_path(USED).is_dir()
    assert BuildCache(store).get("1" * 64) is not None and BuildCache(store).get("2" * 64) is None
    assert not any(BuildCache(store).git_dir.iterdir())
    assert pruned.reclaimed >= 1000 and pruned.bridge is False
    assert any((store.root / "buildcache" / "hash").iterdir())  # -a only


def test_prune_all_drops_every_record_but_never_an_images_layer(tmp_path):
    store = _store(tmp_path)
    pruned = prune_build_cache(store, everything=True)
    assert {"1" * 25, "2" * 25} <= set(pruned.objects)
    assert BuildCache(store).get("1" * 64) is None
    assert store.layer_path(USED).is_dir()  # the image's
    assert not any((store.root / "buildcache" / "hash").iterdir())
    assert prune_build_cache(store, everything=True).objects == []


def test_human_size_is_dockers():
    assert [human_size(n, 4) for n in (0, 999, 1000, 30_920_000, 3_021)] == [
        "0B",
        "999B",
        "1kB",
        "30.92MB",
        "3.021kB",
    ]
