"""Names from a stack file (or -p) never make a host path outside pycompose's dirs (review gaps 4
and 5): container, volume, network, project and service names from a hostile alphabet are each
a located load error, or every host path derived from them is one component under its base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from compose import paths
from compose.errors import UserError
from compose.model import load_stack
from compose.stackfile import LoadOptions
from compose.state import layout
from compose.state.records import container_name, staging_name
from compose.state.store import StateStore
from compose.volumes import volume_full_name
from netplug.netns import netns_path

HOSTILE = st.one_of(
    st.sampled_from(
        [
            "..",
            ".",
            "../../../tmp/x",
            "a/../../b",
            "/etc/passwd",
            "a\0b",
            "a\nb",
            "x" * 300,
            "ab" * 101,
            "",
            "-a",
            "_a",
            "a b",
            "é",
            "\u202egnp.exe",
            "web",
            "a.b_c-d",
        ]
    ),
    st.text(alphabet="/.\0\n\\:$ é☃aZ0-_", min_size=1, max_size=12),
)
KINDS = ("container_name", "volume_name", "volume_key", "network_key", "network_name", "service")


def _stack(kind: str, name: str) -> dict[str, object]:
    svc: dict[str, object] = {"image": "busybox", "volumes": ["v:/data"], "networks": ["n"]}
    doc: dict[str, object] = {"services": {"web": svc}, "volumes": {"v": {}}, "networks": {"n": {}}}
    if kind == "container_name":
        svc["container_name"] = name
    elif kind == "volume_name":
        doc["volumes"] = {"v": {"name": name}}
    elif kind == "volume_key":
        svc["volumes"] = [{"type": "volume", "source": name, "target": "/data"}]
        doc["volumes"] = {name: {}}
    elif kind == "network_key":
        svc["networks"] = [name]
        doc["networks"] = {name: {}}
    elif kind == "network_name":
        doc["networks"] = {"n": {"name": name}}
    else:
        doc["services"] = {name: svc}
    return doc


def _under(path: Path, base: Path) -> None:
    assert path.parent == base, (path, base)
    assert path.name not in ("", ".", ".."), path
    assert "/" not in path.name and "\0" not in path.name


def _derived_paths_stay_under_their_bases(stack) -> None:
    project = stack.name
    state = layout.project_dir(project)
    _under(state, paths.state_dir() / "projects")
    _under(layout.run_dir(project), paths.run_dir() / "projects")
    for svc in stack.services.values():
        for name in (container_name(project, svc.name, 1, svc.container_name),):
            for each in (name, staging_name(name, "0123456789ab")):
                _under(layout.replica_dir(project, each), state / "containers")
                _under(layout.log_path(project, each), state / "logs")
                _under(StateStore(project).replica_file(each), state / "replicas")
                _under(netns_path(each, Path("/run/x")), Path("/run/x"))
        for mount in svc.volumes:
            if mount.type == "volume" and mount.source:
                full = volume_full_name(stack, mount.source)
                _under(layout.volume_root(full), paths.volumes_dir())
        for net in svc.networks:
            _under(paths.ipam_dir() / f"{project}_{net}", paths.ipam_dir())


def _load(tmp_path: Path, doc: dict[str, object], project: str = "fuzz"):
    (tmp_path / "compose.yaml").write_text(json.dumps(doc))  # JSON is YAML: any string quoted
    opts = LoadOptions(
        files=("compose.yaml",), project_name=project, cwd=tmp_path, environ={"HOME": "/h"}
    )
    return load_stack(opts)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kind=st.sampled_from(KINDS), name=HOSTILE)
def test_hostile_names_are_a_located_error_or_stay_under_their_base(tmp_path, kind, name):
    try:
        stack = _load(tmp_path, _stack(kind, name))
    except UserError as exc:  # a load error: it says where (file:line:col) and why
        text = str(exc)
        assert text.startswith("compose.yaml") or "compose.yaml:" in text, text
        return
    _derived_paths_stay_under_their_bases(stack)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=HOSTILE)
def test_hostile_project_names_are_refused_or_stay_under_their_base(tmp_path, name):
    try:
        stack = _load(tmp_path, _stack("service", "web"), project=name)
    except UserError as exc:
        assert "project name" in str(exc), exc
        return
    _derived_paths_stay_under_their_bases(stack)


@pytest.mark.parametrize(
    "kind, name, why",
    [
        ("container_name", "../../../tmp/sec-x/victim", "invalid container name"),
        ("volume_name", "../../../../../../../../tmp/sec-x/victimdir", "invalid characters"),
        ("container_name", "x" * 300, "at most 200"),
        ("container_name", "a\nb", "invalid container name"),
        ("network_key", "../n", "invalid network name"),
    ],
)
def test_the_reviews_reproductions_are_load_errors(tmp_path, kind, name, why):
    with pytest.raises(UserError, match=why) as err:
        _load(tmp_path, _stack(kind, name))
    assert "compose.yaml:" in str(err.value)


def test_a_derived_path_is_checked_where_it_is_made():
    """The last line of defence: '-p ..' normalizes to '' (down would remove every project)."""
    for bad in ("", ".", "..", "a/b", "a\0b", "x" * 256):
        with pytest.raises(UserError, match="one path component"):
            layout.project_dir(bad)
        with pytest.raises(UserError):
            layout.volume_root(bad)
