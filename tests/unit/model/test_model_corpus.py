"""Golden corpus: every stack docker compose accepts loads and validates; the rest is rejected
with a user error (and legacy v1 files with a message that says "v1")."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compose.errors import UserError
from compose.model import Stack, load_stack
from compose.stackfile import LoadOptions

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared/corpus"
ENV = {"HOME": "/root", "PATH": "/usr/bin:/bin"}
TOP_LEVEL = {"version", "name", "include", "services", "networks", "volumes", "secrets", "configs"}

# file (relative to the corpus) -> text the user error must contain
NO_IMAGE = "has neither an image nor a build context specified"
GO, V1, V2 = "compose-go/loader/testdata/", "compose-v1-fixtures/", "compose-v2-e2e-fixtures/"
REJECTED = {
    f"{GO}compose-depends-on-cycle.yaml": "service1 → service2 → service3 → service1",
    f"{GO}compose-depends-on-profile-no-cycle.yaml": "dependency cycle",
    f"{GO}compose-depends-on-self.yaml": "service1 → service1",
    f"{GO}compose-include-cycle.yaml": "cycle",
    f"{GO}empty.yaml": "empty",
    f"{GO}extends/base.yaml": NO_IMAGE,  # only a base for extends
    f"{GO}include/dir/compose.yaml": "extra.env",  # included with env_file
    f"{GO}remote/cycle/compose-cycle.yaml": "remote:",  # custom loader upstream
    f"{GO}remote/cycle/compose.yaml": "remote:",
    f"{GO}remote/nested/compose.yaml": "remote:",
    f"{V1}net-container/v2-invalid.yml": "services.bar.net: unknown key",
    f"{V1}networks/bridge.yml": 'network "bridge" is not declared',
    f"{V1}networks/missing-network.yml": 'network "foo" is not declared',
    f"{V1}override-files/docker-compose.override.yml": NO_IMAGE,  # an override file
    f"{V1}tagless-image/docker-compose.yml": NO_IMAGE,  # image: ${IMAGE_ID}, unset here
    f"{V1}override-files/extra.yml": 'undefined service "db"',  # an override file
    f"{V2}container_name/compose.yaml": 'container_name "test" is used by 2',
    f"{V2}env_file/compose.yaml": "/doesnotexist/.env",
    f"{V2}logs-test/cat.yaml": "invalid volume",  # needs a variable set
    f"{V2}publish/oci/compose-override.yaml": NO_IMAGE,  # an override file
    f"{V2}simple-composefile/id.yaml": '"ID"',
    f"{V2}wrong-composefile/compose.yaml": "services.simple.wrongField: unknown key",
}


def _files(folder: str) -> list[str]:
    root = CORPUS / folder
    found = [p for p in root.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml")]
    return sorted(str(p.relative_to(CORPUS)) for p in found)


def _is_v1(path: Path) -> bool:
    try:
        data = YAML(typ="safe").load(path.read_text())
    except Exception:
        return False
    return (
        isinstance(data, dict)
        and "services" not in data
        and any(
            isinstance(v, dict)
            for k, v in data.items()
            if k not in TOP_LEVEL and not k.startswith("x-")
        )
    )


def _load(rel: str) -> Stack:
    path = CORPUS / rel
    return load_stack(LoadOptions(files=(str(path),), cwd=path.parent, environ=ENV))


CASES = [
    *_files("awesome-compose"),
    *_files("compose-go/loader/testdata"),
    *_files("compose-go/cli/testdata"),
    *_files("compose-conformance-tests"),
    *_files("compose-v1-fixtures"),
    *_files("compose-v2-e2e-fixtures"),
]


@pytest.mark.parametrize("rel", CASES)
def test_corpus_file(rel: str) -> None:
    if rel in REJECTED:
        with pytest.raises(UserError) as info:
            _load(rel)
        assert REJECTED[rel] in str(info.value)
    elif _is_v1(CORPUS / rel):
        with pytest.raises(UserError, match="legacy Compose v1 file format"):
            _load(rel)
    else:
        stack = _load(rel)
        assert stack.name


def test_v1_file_with_only_extends_gets_the_v1_message() -> None:
    with pytest.raises(UserError, match='"myweb" is at the top level: this is the legacy'):
        _load(f"{V1}extends/service-with-invalid-schema.yml")


def test_every_awesome_compose_stack_has_services() -> None:
    for rel in _files("awesome-compose"):
        if "compose." in rel:
            assert _load(rel).services, rel


@pytest.mark.parametrize("path", sorted((REPO / "examples/stacks").glob("*/compose.yaml")), ids=str)
def test_example_stacks_load(path: Path) -> None:
    stack = load_stack(LoadOptions(files=(str(path),), cwd=path.parent, environ=ENV))
    assert stack.services
