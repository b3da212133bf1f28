"""Golden tests against the shared corpus: full-example, awesome-compose, v1 and v2 fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compose.errors import UserError
from compose.stackfile import LoadOptions, load_stack_tree

CORPUS = Path("/work/shared/corpus")
FULL = CORPUS / "compose-go" / "full-example"
FULL_ENV = {"HOME": "/HOMEDIR", "BAR": "this is a secret", "QUX": "qux_from_environment"}
AWESOME = sorted(p for p in (CORPUS / "awesome-compose").glob("*/compose.y*ml"))
V1_DIR = CORPUS / "compose-v1-fixtures"


def _load_full(**opts: object):
    return load_stack_tree(
        LoadOptions(files=(str(FULL / "full-example.yml"),), environ=FULL_ENV, cwd=FULL, **opts)
    )


def _expected_full() -> dict:
    text = (FULL / "full-example.expected.yaml").read_text().replace("/WORKDIR", str(FULL))
    return YAML(typ="safe", pure=True).load(text)


def _diff(got: object, want: object, path: str = "") -> list[str]:
    if isinstance(got, dict) and isinstance(want, dict):
        out = [f"{path}.{k}: missing" for k in want if k not in got]
        out += [f"{path}.{k}: extra" for k in got if k not in want]
        for k in set(got) & set(want):
            out += _diff(got[k], want[k], f"{path}.{k}")
        return out
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        pairs = enumerate(zip(got, want, strict=True))
        return [d for i, (g, w) in pairs for d in _diff(g, w, f"{path}[{i}]")]
    same = got == want and type(got) is type(want)
    return [] if same else [f"{path}: got {got!r}, want {want!r}"]


def test_stackfile_full_example_matches_compose_go_exactly() -> None:
    """SkipNormalization=true upstream, so compare with normalize=False: no differences."""
    stack = _load_full(normalize=False)
    assert _diff(stack.tree, _expected_full()) == []
    assert stack.name == "full_example_project_name"
    assert stack.warnings == ()


def test_stackfile_full_example_normalized_adds_what_compose_config_adds() -> None:
    tree = _load_full().tree
    assert tree["networks"]["default"] == {"name": "full_example_project_name_default"}
    assert tree["networks"]["some-network"]["name"] == "full_example_project_name_some-network"
    assert tree["networks"]["external-network"]["name"] == "external-network"
    assert tree["volumes"]["another-volume"]["name"] == "user_specified_name"
    assert tree["services"]["bar"]["networks"] == {"default": None}
    assert "networks" in tree["services"]["foo"]  # network_mode set: no implicit default
    foo_deps = tree["services"]["foo"]["depends_on"]
    assert foo_deps["db"] == {"condition": "service_started", "required": True}
    assert tree["services"]["bar"]["build"] == {
        "context": str(FULL), "dockerfile_inline": 'FROM alpine\nRUN echo "hello" > /world.txt\n'
    }  # fmt: skip
    assert tree["services"]["foo"]["build"]["dockerfile"] == "Dockerfile"


@pytest.mark.parametrize("path", AWESOME, ids=[p.parent.name for p in AWESOME])
def test_stackfile_awesome_compose_loads(path: Path) -> None:
    opts = LoadOptions(files=(str(path),), environ={"HOME": "/h"}, cwd=path.parent)
    stack = load_stack_tree(opts)
    assert stack.tree["services"], "every awesome-compose stack has services"
    for name, svc in stack.tree["services"].items():
        assert svc.get("image") or svc.get("build"), name
        for port in svc.get("ports", []):
            assert isinstance(port["target"], int) and port["protocol"] in ("tcp", "udp")
        for vol in svc.get("volumes", []):
            assert vol["type"] in ("bind", "volume", "tmpfs")
            assert vol["type"] != "bind" or vol["source"].startswith("/")
        assert isinstance(svc.get("environment", {}), dict)
        assert isinstance(svc.get("depends_on", {}), dict)


def _is_v1(path: Path) -> bool:
    data = YAML(typ="safe", pure=True).load(path.read_text())
    if not isinstance(data, dict) or "services" in data or "version" in data:
        return False
    return any(isinstance(v, dict) and ({"image", "build"} & v.keys()) for v in data.values())


V1_FILES = sorted(p for p in V1_DIR.rglob("*.y*ml") if _is_v1(p))
OTHER_V1_DIR_FILES = sorted(p for p in V1_DIR.rglob("*.y*ml") if p not in V1_FILES)


@pytest.mark.parametrize("path", V1_FILES, ids=[str(p.relative_to(V1_DIR)) for p in V1_FILES])
def test_stackfile_v1_format_is_rejected(path: Path) -> None:
    with pytest.raises(UserError, match=r"^[^:]+:\d+:\d+: .*legacy Compose v1 file format"):
        load_stack_tree(LoadOptions(files=(str(path),), cwd=path.parent))


def test_stackfile_v1_corpus_has_both_kinds() -> None:
    assert len(V1_FILES) > 40 and len(OTHER_V1_DIR_FILES) > 40


@pytest.mark.parametrize(
    "path", OTHER_V1_DIR_FILES, ids=[str(p.relative_to(V1_DIR)) for p in OTHER_V1_DIR_FILES]
)
def test_stackfile_v2_v3_format_files_load_or_fail_cleanly(path: Path) -> None:
    try:
        load_stack_tree(LoadOptions(files=(str(path),), environ={"HOME": "/h"}, cwd=path.parent))
    except UserError as exc:
        assert str(exc)  # a located user error, never another exception


V2E2E = sorted((CORPUS / "compose-v2-e2e-fixtures").rglob("*.y*ml"))
V2E2E_IDS = [str(p.relative_to(V2E2E[0].parents[1])) for p in V2E2E]
V2E2E_ERRORS = {"env_file/compose.yaml", "logs-test/cat.yaml", "simple-composefile/id.yaml"}


@pytest.mark.parametrize("path", V2E2E, ids=V2E2E_IDS)
def test_stackfile_docker_compose_e2e_fixtures(path: Path) -> None:
    rel = str(path.relative_to(CORPUS / "compose-v2-e2e-fixtures"))
    opts = LoadOptions(files=(str(path),), environ={"HOME": "/h"}, cwd=path.parent)
    if rel in V2E2E_ERRORS:
        with pytest.raises(UserError, match=r"^[^ ]+:\d+:\d+: "):
            load_stack_tree(opts)
    else:
        load_stack_tree(opts)


def test_stackfile_e2e_missing_env_file_only_for_selected_services() -> None:
    path = CORPUS / "compose-v2-e2e-fixtures" / "env_file" / "compose.yaml"
    opts = LoadOptions(files=(str(path),), cwd=path.parent, services=("serviceA",))
    assert "serviceB" in load_stack_tree(opts).tree["services"]


CONFORMANCE = sorted((CORPUS / "compose-conformance-tests").glob("*/compose.yaml"))


@pytest.mark.parametrize("path", CONFORMANCE, ids=[p.parent.name for p in CONFORMANCE])
def test_stackfile_conformance_stacks_load(path: Path) -> None:
    stack = load_stack_tree(LoadOptions(files=(str(path),), cwd=path.parent))
    assert stack.tree["services"]
    assert any("`version` is obsolete" in w for w in stack.warnings)
