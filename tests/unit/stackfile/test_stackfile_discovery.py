"""File discovery, COMPOSE_* variables, project name precedence, .env precedence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from stackfile_helpers import load, write

from compose.errors import StackFileNotFound, UserError
from compose.stackfile.discovery import normalize_project_name

CLI_TESTDATA = Path("/work/shared/corpus/compose-go/cli/testdata")
SIMPLE = "services: {s: {image: 'img:${TAG:-latest}'}}\n"


def test_stackfile_discovery_prefers_compose_yaml_and_loads_override(tmp_path: Path) -> None:
    write(tmp_path, {
        "compose.yaml": SIMPLE,
        "docker-compose.yml": "services: {other: {image: x}}",
        "compose.override.yml": "services: {s: {environment: {O: '1'}}}",
    })  # fmt: skip
    stack = load(tmp_path)
    assert [p.name for p in stack.files] == ["compose.yaml", "compose.override.yml"]
    assert stack.tree["services"]["s"]["environment"] == {"O": "1"}


def test_stackfile_discovery_searches_parents(tmp_path: Path) -> None:
    write(tmp_path, {"docker-compose.yaml": SIMPLE})
    (tmp_path / "a" / "b").mkdir(parents=True)
    stack = load(tmp_path, cwd=tmp_path / "a" / "b")
    assert stack.working_dir == tmp_path
    assert stack.name == normalize_project_name(tmp_path.name)


def test_stackfile_discovery_nothing_found(tmp_path: Path) -> None:
    with pytest.raises(StackFileNotFound, match="no configuration file provided"):
        load(tmp_path)


def test_stackfile_compose_file_variable_with_separator(tmp_path: Path) -> None:
    write(tmp_path, {"one.yml": SIMPLE, "two.yml": "services: {s: {image: two}}"})
    env = {"COMPOSE_FILE": "one.yml;two.yml", "COMPOSE_PATH_SEPARATOR": ";"}
    stack = load(tmp_path, environ=env)
    assert stack.tree["services"]["s"]["image"] == "two"


def test_stackfile_compose_file_from_dotenv(tmp_path: Path) -> None:
    write(tmp_path, {"one.yml": SIMPLE, ".env": "COMPOSE_FILE=one.yml\nTAG=fromdotenv\n"})
    assert load(tmp_path).tree["services"]["s"]["image"] == "img:fromdotenv"


def test_stackfile_missing_file_argument(tmp_path: Path) -> None:
    with pytest.raises(StackFileNotFound, match=r"nope\.yml"):
        load(tmp_path, files=("nope.yml",))


def test_stackfile_stdin(tmp_path: Path) -> None:
    stack = load(tmp_path, files=("-",), stdin=SIMPLE)
    assert stack.tree["services"]["s"]["image"] == "img:latest"
    assert stack.working_dir == tmp_path


@pytest.mark.parametrize(
    ("opts", "env", "top", "expected"),
    [
        ({"project_name": "flag"}, {"COMPOSE_PROJECT_NAME": "env"}, "top", "flag"),
        ({}, {"COMPOSE_PROJECT_NAME": "env"}, "top", "env"),
        ({}, {}, "top", "top"),
        ({}, {"N": "interp"}, "${N}", "interp"),
        ({}, {}, None, "mydir-1"),
        ({}, {}, "My.Project", "myproject"),  # a top-level name is normalized (compose-go)
        ({}, {}, "'%%'", "mydir-1"),  # ... and ignored when nothing is left
    ],
)
def test_stackfile_project_name_precedence(
    tmp_path: Path, opts: dict, env: dict, top: str | None, expected: str
) -> None:
    root = tmp_path / "My Dir-1"
    head = f"name: {top}\n" if top else ""
    stack = load(root, {"compose.yaml": head + SIMPLE}, environ=env, **opts)
    assert stack.name == expected
    assert stack.tree["name"] == expected


def test_stackfile_project_name_exposed_to_interpolation(tmp_path: Path) -> None:
    text = "name: proj\nservices: {s: {image: '${COMPOSE_PROJECT_NAME}-img'}}\n"
    assert load(tmp_path, {"compose.yaml": text}).tree["services"]["s"]["image"] == "proj-img"


@pytest.mark.parametrize("bad", ["Upper", "-lead", "sp ace", "dot.ted", ""])
def test_stackfile_invalid_explicit_project_name(tmp_path: Path, bad: str) -> None:
    write(tmp_path, {"compose.yaml": SIMPLE})
    if bad == "":
        assert load(tmp_path, project_name=bad).name == normalize_project_name(tmp_path.name)
        return
    with pytest.raises(UserError, match="invalid project name"):
        load(tmp_path, project_name=bad)


def test_stackfile_project_name_from_unnormalized_path(tmp_path: Path) -> None:
    dest = tmp_path / "UNNORMALIZED PATH"
    shutil.copytree(CLI_TESTDATA / "UNNORMALIZED PATH", dest)
    stack = load(tmp_path, files=(str(dest / "compose.yaml"),))
    assert stack.name == "unnormalizedpath"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("My_Project", "my_project"), ("__x", "x"), ("-a.b c", "abc"), ("Ünïcode9", "ncode9")],
)
def test_stackfile_normalize_project_name(raw: str, normalized: str) -> None:
    assert normalize_project_name(raw) == normalized


def test_stackfile_env_precedence_shell_over_env_file(tmp_path: Path) -> None:
    shutil.copytree(CLI_TESTDATA / "env-file", tmp_path / "e")
    root = tmp_path / "e"
    stack = load(root, files=("compose-with-env-files.yaml",), env_files=("override.env",))
    svc = stack.tree["services"]["simple"]
    assert svc["ports"][0]["published"] == "9000"
    assert svc["environment"] == {"DEFAULT_PORT": "9090"}  # later env_file wins
    shell = load(root, files=("compose-with-env-files.yaml",), env_files=("override.env",),
                 environ={"PORT": "1234"})  # fmt: skip
    assert shell.tree["services"]["simple"]["ports"][0]["published"] == "1234"
    assert shell.environment["PORT"] == "1234"


def test_stackfile_env_files_in_order_and_default_dotenv(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": SIMPLE, ".env": "TAG=dot\n", "a.env": "TAG=a\n",
                     "b.env": "TAG=b\n"})  # fmt: skip
    assert load(tmp_path).tree["services"]["s"]["image"] == "img:dot"
    stack = load(tmp_path, env_files=("a.env", "b.env"))
    assert stack.tree["services"]["s"]["image"] == "img:b"
    off = load(tmp_path, environ={"COMPOSE_DISABLE_ENV_FILE": "1"})
    assert off.tree["services"]["s"]["image"] == "img:latest"
    with pytest.raises(UserError, match="couldn't find env file"):
        load(tmp_path, env_files=("missing.env",))


def test_stackfile_environment_bare_keys_and_env_file(tmp_path: Path) -> None:
    files = {
        "compose.yaml": """
            services:
              s:
                image: i
                env_file: [a.env, {path: missing.env, required: false}]
                environment: [FROM_SHELL, NOWHERE, OVER=mine]
        """,
        "a.env": "OVER=file\nFILE_ONLY=${FROM_SHELL}-x\n",
    }
    stack = load(tmp_path, files, environ={"FROM_SHELL": "sh"})
    assert stack.tree["services"]["s"]["environment"] == {
        "OVER": "mine", "FILE_ONLY": "sh-x", "FROM_SHELL": "sh", "NOWHERE": None
    }  # fmt: skip


def test_stackfile_no_interpolate(tmp_path: Path) -> None:
    stack = load(tmp_path, {"compose.yaml": SIMPLE}, interpolate=False)
    assert stack.tree["services"]["s"]["image"] == "img:${TAG:-latest}"


def test_stackfile_no_path_resolution(tmp_path: Path) -> None:
    text = "services: {s: {image: i, volumes: ['./d:/d']}}\n"
    stack = load(tmp_path, {"compose.yaml": text}, resolve_paths=False)
    assert stack.tree["services"]["s"]["volumes"][0]["source"] == "./d"


def test_stackfile_discovery_warns_about_several_candidates(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": SIMPLE, "compose.yml": "services: {x: {image: x}}"})
    stack = load(tmp_path)
    assert "s" in stack.tree["services"]
    assert any("Found multiple config files" in w for w in stack.warnings)


def test_stackfile_pwd_is_the_cwd(tmp_path: Path) -> None:
    text = "services: {s: {image: i, working_dir: '${PWD}'}}"
    stack = load(tmp_path, {"compose.yaml": text}, environ={"PWD": "/elsewhere"})
    assert stack.tree["services"]["s"]["working_dir"] == str(tmp_path)


def test_stackfile_implicit_dependencies_like_compose_config(tmp_path: Path) -> None:
    text = """
        services:
          web:
            image: w
            links: [db:database]
            volumes_from: [data, "container:other"]
            network_mode: service:net
            depends_on: {db: {condition: service_healthy}}
          db: {image: d}
          data: {image: d}
          net: {image: n}
    """
    stack = load(tmp_path, {"compose.yaml": text})
    web = stack.tree["services"]["web"]
    assert web["depends_on"] == {
        "db": {"condition": "service_healthy", "required": True},
        "data": {"condition": "service_started", "required": True},
        "net": {"condition": "service_started", "required": True, "restart": True},
    }
    assert "networks" not in web  # network_mode: no implicit default network
    assert stack.tree["services"]["db"]["networks"] == {"default": None}
    assert stack.tree["networks"] == {"default": {"name": stack.name + "_default"}}


def test_stackfile_no_interpolate_keeps_variables_in_short_ports(tmp_path: Path) -> None:
    text = "services: {s: {image: i, ports: ['${PORT}:80', '127.0.0.1:${P2}:${T}/udp']}}"
    stack = load(tmp_path, {"compose.yaml": text}, interpolate=False)
    assert stack.tree["services"]["s"]["ports"] == [
        {"mode": "ingress", "target": 80, "published": "${PORT}", "protocol": "tcp"},
        {"mode": "ingress", "host_ip": "127.0.0.1", "target": "${T}", "published": "${P2}",
         "protocol": "udp"},
    ]  # fmt: skip


def test_stackfile_develop_watch_path_lists_are_split(tmp_path: Path) -> None:
    text = """
        services:
          s:
            image: i
            develop:
              watch:
                - {path: [./a, ./b], action: sync, target: /app}
                - {path: ./c, action: rebuild}
    """
    watch = load(tmp_path, {"compose.yaml": text}).tree["services"]["s"]["develop"]["watch"]
    got = [(Path(w["path"]).name, w["action"]) for w in watch]
    assert got == [("a", "sync"), ("b", "sync"), ("c", "rebuild")]
    assert watch[0]["path"] == str(tmp_path / "a") and watch[0]["target"] == "/app"
