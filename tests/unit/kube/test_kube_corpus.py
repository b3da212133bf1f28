"""Acceptance: every awesome-compose stack converts and passes --check; five are pinned.

Goldens are what ``pycompose kube convert`` prints (stdout) and warns (stderr) for five
representative stacks; after an intended change, regenerate them with
``PYCOMPOSE_UPDATE_GOLDEN=1 pytest tests/unit/kube/test_kube_corpus.py`` and review the diff.
So that they do not depend on this machine, host paths outside the corpus read as absent
and the corpus' own path prints as ``<corpus>``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kube_helpers import AWESOME, load, stack_files

from compose.cli import run
from compose.kube import KubeOptions, convert, facts, gather
from compose.kube.check import check_conversion
from compose.kube.facts import FileFact

GOLDEN = Path(__file__).with_name("golden")
FLAG_SETS = {
    "default": {},
    "everything": {
        "publish": "NodePort",
        "stateful": True,
        "network_policies": True,
        "wait_init": "busybox:1.36",
        "namespace": "demo",
    },
    "load-balancer": {"publish": "LoadBalancer"},
}
# stack → the convert flags its golden is made with
PINNED = {
    "nginx-golang-mysql": [],
    "react-express-mysql": ["--network-policies", "--publish", "NodePort", "-n", "demo"],
    "wireguard": [],
    "pihole-cloudflared-DoH": ["--publish", "NodePort"],
    "minecraft": ["--publish", "LoadBalancer", "--volume-size", "10Gi"],
    "wasmedge-kafka-mysql": ["--stateful", "--wait-init", "busybox:1.36"],
}


@pytest.mark.parametrize("flags", sorted(FLAG_SETS))
def test_every_awesome_compose_stack_converts_and_passes_check(flags: str) -> None:
    failures = {}
    for path in stack_files():
        stack = load(path)
        try:
            conversion = convert(stack, KubeOptions(**FLAG_SETS[flags]), gather(stack))
            check_conversion(conversion, "1.33")
        except Exception as exc:  # report every stack, not only the first
            failures[path.parent.name] = str(exc)
    assert failures == {}
    assert len(stack_files()) == 39


def _convert(stack: str, flags: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    folder = AWESOME / stack
    [path] = [p for p in folder.iterdir() if p.name in ("compose.yaml", "compose.yml")]
    code = run(["-f", str(path), "kube", "convert", "--check", "--kube-version", "1.33", *flags])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


@pytest.mark.parametrize("stack", sorted(PINNED))
def test_golden_output(
    stack: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", "/root")
    for name in ("TIMEZONE", "VPN_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    read_file = facts.read_file

    def corpus_only(path: Path) -> FileFact:
        return read_file(path) if path.is_relative_to(AWESOME) else FileFact("missing")

    monkeypatch.setattr(facts, "read_file", corpus_only)
    out, err = _convert(stack, PINNED[stack], capsys)
    err = err.replace(str(AWESOME), "<corpus>")
    files = {GOLDEN / f"{stack}.yaml": out, GOLDEN / f"{stack}.warnings": err}
    if os.environ.get("PYCOMPOSE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        for path, text in files.items():
            path.write_text(text)
    for path, text in files.items():
        assert text == path.read_text(), f"{path.name} changed (see the module docstring)"
