"""extends / include / profiles, on compose-go's loader testdata and small stacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from stackfile_helpers import load

from compose.errors import UserError

TESTDATA = Path("/work/shared/corpus/compose-go/loader/testdata")


@pytest.fixture
def testdata(tmp_path: Path) -> Path:
    dest = tmp_path / "testdata"
    shutil.copytree(TESTDATA, dest)
    return dest


def test_stackfile_extends_other_file_paths_relative_to_that_file(testdata: Path) -> None:
    stack = load(testdata, files=("compose-test-extends.yaml",), environ={"SOURCE": "extends"})
    svc = stack.tree["services"]["importer"]
    assert svc["image"] == "nginx"
    assert svc["container_name"] == "extends"  # interpolated with the project environment
    assert svc["env_file"] == [{"path": str(testdata / "subdir" / "extra.env")}]
    assert svc["volumes"][0]["source"] == "/opt/data"
    assert "extends" not in svc


def test_stackfile_extends_remote_build_context_untouched(testdata: Path) -> None:
    stack = load(testdata, files=("compose-test-extends-with-context-url.yaml",))
    build = stack.tree["services"]["importer-with-https-url"]["build"]
    assert build["context"] == "https://github.com/docker/compose.git"


def test_stackfile_extends_same_file_nested_and_null_service(testdata: Path) -> None:
    stack = load(testdata, files=("extends/base.yaml",), normalize=False)
    services = stack.tree["services"]
    assert services["another"] == {"image": "base"}
    assert services["with-build"]["build"] == {"context": str(testdata / "extends")}
    assert services["nil"] == {}


def test_stackfile_extends_chain_through_directories(testdata: Path) -> None:
    stack = load(testdata, files=("extends/withdir/compose.yaml",), normalize=False)
    assert stack.tree["services"]["test"] == {"image": "hello-world"}


def test_stackfile_extends_reset_tag(testdata: Path) -> None:
    stack = load(testdata, files=("extends/reset.yaml",), normalize=False)
    assert "command" not in stack.tree["services"]["base"]
    assert stack.tree["services"]["init"]["command"] == ["sleep", "infinity"]


def test_stackfile_extends_local_values_win_and_sequences_merge(tmp_path: Path) -> None:
    stack = load(
        tmp_path,
        {
            "compose.yaml": """
                services:
                  base:
                    image: b
                    environment: {A: "1", B: "1"}
                    ports: ["80:80"]
                    command: base
                  web:
                    extends: base
                    environment: {B: "2"}
                    ports: ["81:81"]
                    command: web
            """
        },
    )
    web = stack.tree["services"]["web"]
    assert web["environment"] == {"A": "1", "B": "2"}
    assert [p["target"] for p in web["ports"]] == [80, 81]
    assert web["command"] == ["web"]


def test_stackfile_extends_cycle_is_an_error_with_chain(tmp_path: Path) -> None:
    files = {
        "compose.yaml": """
            services:
              a: {extends: b, image: x}
              b: {extends: {service: c}}
              c: {extends: a}
        """
    }
    with pytest.raises(UserError, match=r"compose.yaml:\d+:\d+: extends cycle: a → b → c → a"):
        load(tmp_path, files)


def test_stackfile_extends_missing_service(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r'service "nope" not found'):
        load(tmp_path, {"compose.yaml": "services: {a: {extends: nope}}"})


def test_stackfile_include_loads_sub_project_relative_to_itself(testdata: Path) -> None:
    stack = load(testdata, files=("include/compose.yaml",))
    svc = stack.tree["services"]["included"]
    assert svc["build"]["context"] == str(testdata / "include")
    assert svc["volumes"][0]["source"] == str(testdata / "include")


def test_stackfile_include_with_extends_inside(testdata: Path) -> None:
    stack = load(testdata, files=("combined/compose.yaml",))
    build = stack.tree["services"]["service"]["build"]
    assert build["context"] == str(testdata / "combined" / "dir")


def test_stackfile_include_project_directory(testdata: Path) -> None:
    (testdata / "subdir" / "extra.env").write_text("FROM_EXTRA=1\n")
    stack = load(testdata, files=("include/project-directory.yaml",))
    svc = stack.tree["services"]["service"]
    assert svc["volumes"][0]["source"] == str(
        testdata / "subdir" / "compose-test-extends-imported.yaml"
    )
    assert svc["environment"] == {"FROM_EXTRA": "1"}


def test_stackfile_include_cycle(testdata: Path) -> None:
    with pytest.raises(UserError, match="include cycle"):
        load(testdata, files=("compose-include-cycle.yaml",))


def test_stackfile_include_conflict_between_includes_is_an_error(tmp_path: Path) -> None:
    files = {
        "compose.yaml": "include: [one.yaml, two.yaml]\n",
        "one.yaml": "services: {web: {image: a}}\n",
        "two.yaml": "services: {web: {image: b}}\n",
    }
    with pytest.raises(UserError, match=r"services\.web conflicts"):
        load(tmp_path, files)


def test_stackfile_including_file_overrides_imported_service(tmp_path: Path) -> None:
    files = {
        "compose.yaml": "include: [other.yaml]\nservices: {web: {image: a}}\n",
        "other.yaml": "services: {web: {image: b, environment: {X: '1'}}}\n",
    }
    web = load(tmp_path, files).tree["services"]["web"]
    assert web["image"] == "a" and web["environment"] == {"X": "1"}


def test_stackfile_include_uses_own_env_file_parent_wins(tmp_path: Path) -> None:
    files = {
        "compose.yaml": "include: [{path: sub/c.yaml}]\nservices: {a: {image: 'a:${TAG}'}}\n",
        "sub/c.yaml": "services: {b: {image: 'b:${TAG}-${SUBONLY}'}}\n",
        "sub/.env": "TAG=sub\nSUBONLY=yes\n",
        ".env": "TAG=parent\n",
    }
    stack = load(tmp_path, files)
    assert stack.tree["services"]["a"]["image"] == "a:parent"
    assert stack.tree["services"]["b"]["image"] == "b:parent-yes"


PROFILED = """
services:
  web: {image: web, depends_on: [db]}
  db: {image: db}
  debug: {image: dbg, profiles: [debug]}
  tools: {image: t, profiles: [tools, debug], depends_on: [db]}
"""


@pytest.mark.parametrize(
    ("opts", "enabled"),
    [
        ({}, {"web", "db"}),
        ({"profiles": ("debug",)}, {"web", "db", "debug", "tools"}),
        ({"profiles": ("tools",)}, {"web", "db", "tools"}),
        ({"profiles": ("*",)}, {"web", "db", "debug", "tools"}),
        ({"services": ("tools",)}, {"web", "db", "tools", "debug"}),  # all its profiles
        ({"environ": {"COMPOSE_PROFILES": "tools,other"}}, {"web", "db", "tools"}),
    ],
)
def test_stackfile_profiles_select_services(tmp_path: Path, opts: dict, enabled: set) -> None:
    stack = load(tmp_path, {"compose.yaml": PROFILED}, **opts)
    assert set(stack.tree["services"]) == enabled
    assert stack.disabled_services == {"web", "db", "debug", "tools"} - enabled


def test_stackfile_profiles_dependency_on_disabled_service(tmp_path: Path) -> None:
    files = {
        "compose.yaml": """
            services:
              web:
                image: web
                depends_on: [db]
              db: {image: db, profiles: [data]}
        """
    }
    pattern = r'compose.yaml:\d+:\d+: service "web" depends on service "db"'
    with pytest.raises(UserError, match=pattern):
        load(tmp_path, files)
    assert set(load(tmp_path, profiles=("data",)).tree["services"]) == {"web", "db"}


def test_stackfile_profiles_optional_dependency_is_dropped(tmp_path: Path) -> None:
    files = {
        "compose.yaml": """
            services:
              web: {image: w, depends_on: {db: {condition: service_started, required: false}}}
              db: {image: db, profiles: [data]}
        """
    }
    assert "db" not in load(tmp_path, files).tree["services"]["web"].get("depends_on", {})


def test_stackfile_include_marks_point_into_included_file(tmp_path: Path) -> None:
    files = {
        "compose.yaml": "include: [sub/other.yaml]\nservices: {web: {image: a}}\n",
        "sub/other.yaml": "services:\n  db:\n    image: b\n",
    }
    stack = load(tmp_path, files)
    mark = stack.source_map.locate(("services", "db", "image"))
    assert (Path(mark.file).name, mark.line, mark.col) == ("other.yaml", 3, 5)


def test_stackfile_extends_marks_point_into_base_file(testdata: Path) -> None:
    stack = load(testdata, files=("compose-test-extends.yaml",))
    mark = stack.source_map.locate(("services", "importer", "volumes", 0))
    assert Path(mark.file).name == "compose-test-extends-imported.yaml"
    assert mark.line == 8


def test_stackfile_profiles_link_to_disabled_service(tmp_path: Path) -> None:
    files = {"compose.yaml": "services: {web: {image: w, links: [db]}, db: {profiles: [x]}}"}
    with pytest.raises(UserError, match=r'"web" depends on service "db"'):
        load(tmp_path, files)


def test_stackfile_extends_base_file_own_reset_applies(tmp_path: Path) -> None:
    files = {
        "compose.yaml": "services: {web: {extends: {file: base.yaml, service: base}}}",
        "base.yaml": """
            x-common: &common
              image: i
              ports: ["80:80"]
            services:
              base:
                <<: *common
                ports: !reset []
        """,
    }
    web = load(tmp_path, files).tree["services"]["web"]
    assert web["image"] == "i" and "ports" not in web
