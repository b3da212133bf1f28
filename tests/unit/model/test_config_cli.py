"""`pycompose config` through the real loader: golden output, listings, hashes, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from compose.cli import run

CORPUS = Path(__file__).resolve().parents[3].parent / "shared/corpus"
FULL = CORPUS / "compose-go/full-example"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """compose-go's TestFullExample environment: HOME, BAR and QUX only."""
    for key in list(os.environ):
        if not key.startswith("PYCOMPOSE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", "/HOMEDIR")
    monkeypatch.setenv("BAR", "this is a secret")
    monkeypatch.setenv("QUX", "qux_from_environment")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _config(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _full(capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    args = ["-f", str(FULL / "full-example.yml"), "config", "--no-consistency", "--no-normalize"]
    code, out, err = _config(capsys, *args, *extra)
    assert code == 0, err
    return out.replace(str(FULL), "/WORKDIR")


def test_full_example_yaml_is_byte_identical(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _full(capsys) == (FULL / "full-example.expected.yaml").read_text()


def test_full_example_json_matches(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = json.loads((FULL / "full-example.expected.json").read_text())
    assert json.loads(_full(capsys, "--format", "json")) == expected


def test_full_example_fails_consistency_with_located_lines(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _config(capsys, "-f", str(FULL / "full-example.yml"), "config")
    assert code == 1
    assert (
        'full-example.yml:218:8: services.foo.links[0]: links refers to undefined service "db"'
        in err
    )
    assert "container_name" in err and "6 replicas" in err


def test_warnings_go_to_stderr_once(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "-f",
        str(FULL / "full-example.yml"),
        "config",
        "--no-consistency",
        "--no-normalize",
        "-q",
    ]
    code, out, err = _config(capsys, *args)
    assert code == 0 and out == ""
    line = "warning: services.foo.uts: not supported by pycompose, ignored"
    assert err.count(line) == 1


def _write(tmp: Path, text: str) -> Path:
    path = tmp / "compose.yaml"
    path.write_text(text)
    return path


STACK = """\
name: demo
services:
  web:
    image: nginx:1.25
    ports: ["8080:80"]
    depends_on: [db]
    profiles: [front]
  db:
    image: postgres:16
    volumes: [data:/var/lib/postgresql/data]
    networks: [back]
  builder:
    build: .
    profiles: [tools]
volumes:
  data: {}
networks:
  back: {}
"""


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("--services", "db\nweb\n"),
        ("--volumes", "data\n"),
        ("--networks", "back\ndefault\n"),
        ("--images", "postgres:16\nnginx:1.25\n"),
        ("--profiles", "front\ntools\n"),
    ],
)
def test_listings(
    clean_env: Path, capsys: pytest.CaptureFixture[str], flag: str, expected: str
) -> None:
    path = _write(clean_env, STACK)
    code, out, err = _config(capsys, "-f", str(path), "--profile", "front", "config", flag)
    assert code == 0, err
    assert out == expected


def test_hash_is_stable_and_tracks_changes(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(clean_env, STACK)
    first = _config(capsys, "-f", str(path), "config", "--hash", "*")[1]
    again = _config(capsys, "-f", str(path), "config", "--hash", "db")[1]
    assert [line.split()[0] for line in first.splitlines()] == ["db"]  # web, builder: profiles
    assert again == first
    _write(clean_env, STACK.replace("postgres:16", "postgres:17"))
    changed = _config(capsys, "-f", str(path), "config", "--hash", "db")[1]
    assert changed != first and changed.startswith("db ")
    assert len(changed.split()[1]) == 64


def test_unknown_hash_service(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(clean_env, STACK)
    code, _, err = _config(capsys, "-f", str(path), "config", "--hash", "nope")
    assert code == 1 and 'no such service: "nope"' in err


def test_output_file(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(clean_env, STACK)
    target = clean_env / "out.json"
    code, out, _ = _config(capsys, "-f", str(path), "config", "--format", "json", "-o", str(target))
    assert code == 0 and out == ""
    data = json.loads(target.read_text())
    assert data["name"] == "demo" and sorted(data["services"]) == ["db"]
    assert data["services"]["db"]["volumes"][0] == {
        "type": "volume",
        "source": "data",
        "target": "/var/lib/postgresql/data",
        "volume": {},
    }


def test_named_service_brings_its_dependencies(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(clean_env, STACK)
    code, out, err = _config(capsys, "-f", str(path), "config", "--format", "json", "web")
    assert code == 0, err
    assert sorted(json.loads(out)["services"]) == ["db", "web"]


def test_no_interpolate_keeps_variables(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(clean_env, "services:\n  web:\n    image: nginx:${TAG:-1}\n    user: ${UID}\n")
    code, out, err = _config(capsys, "-f", str(path), "config", "--no-interpolate")
    assert code == 0, err
    assert "image: nginx:${TAG:-1}" in out and "user: ${UID}" in out


BAD = """\
services:
  web:
    image: nginx
    enviroment:
      A: b
    healthcheck:
      test: [CMD, "true"]
      interval: 5 parsecs
    ports:
      - target: abc
    restart: sometimes
"""


def test_every_problem_is_located_with_a_hint(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(clean_env, BAD)
    code, out, err = _config(capsys, "-f", str(path), "config")
    assert code == 1 and out == ""
    assert (
        'compose.yaml:4:5: services.web.enviroment: unknown key (did you mean "environment"?)'
        in err
    )
    assert (
        'compose.yaml:8:7: services.web.healthcheck.interval: invalid duration "5 parsecs"' in err
    )
    assert 'compose.yaml:10:9: services.web.ports[0].target: must be an integer, not "abc"' in err
    assert 'compose.yaml:11:5: services.web.restart: invalid restart policy "sometimes"' in err
    assert "Traceback" not in err and "pydantic" not in err


def test_dangling_references_are_listed(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "services:\n  web:\n    image: x\n    networks: [front]\n    volumes: [data:/d]\n"
        "    secrets: [token]\n    links: [db]\n"
    )
    code, _, err = _config(capsys, "-f", str(_write(clean_env, text)), "config")
    assert code == 1
    assert 'services.web.networks.front: network "front" is not declared' in err
    assert 'named volume "data" is not declared' in err
    assert 'secret "token" is not declared' in err
    assert 'links refers to undefined service "db"' in err
    code, _, _ = _config(
        capsys, "-f", str(_write(clean_env, text)), "config", "--no-consistency", "-q"
    )
    assert code == 0


def test_v1_file_is_rejected_saying_so(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / "compose-v1-fixtures/simple-composefile/docker-compose.yml"
    code, _, err = _config(capsys, "-f", str(path), "config")
    assert code == 1 and "v1" in err
