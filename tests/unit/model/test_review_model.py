"""Review regressions: what ``pycompose config`` prints for bad stacks (exit 1, one located line
per problem, no traceback) and the consistency rules compose-go's checkConsistency applies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compose.cli import run
from compose.model import Stack, load_stack
from compose.stackfile import LoadOptions


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages name the file relative to the cwd


def _config(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *flags: str) -> str:
    """stderr of ``pycompose -f compose.yaml config`` on ``text``; it must fail with exit 1."""
    (tmp_path / "compose.yaml").write_text(text)
    code = run(["-f", str(tmp_path / "compose.yaml"), "config", *flags])
    out, err = capsys.readouterr()
    assert (code, out) == (1, ""), err
    assert "Traceback" not in err and "pydantic" not in err
    return err


def _ok(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *flags: str) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    assert run(["-f", str(tmp_path / "compose.yaml"), "config", "-q", *flags]) == 0
    capsys.readouterr()


SVC = "services:\n  web:\n"


def _stack(tmp_path: Path) -> Stack:
    return load_stack(LoadOptions(files=(str(tmp_path / "compose.yaml"),), cwd=tmp_path))


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("    command: ls\n", 'compose.yaml:2:3: services.web: service "web" has neither an image'),
        (
            "    build: {context: ., dockerfile: D, dockerfile_inline: FROM x}\n",
            "services.web.build: dockerfile and dockerfile_inline are mutually exclusive",
        ),
        (
            "    image: x\n    mem_limit: 1g\n    deploy: {resources: {limits: {memory: 2g}}}\n",
            "compose.yaml:4:5: services.web.mem_limit: can't set distinct values on 'mem_limit' "
            "and 'deploy.resources.limits.memory' (2147483648)",
        ),
        (
            "    image: x\n    mem_limit: 1g\n    deploy: {resources: {limits: {cpus: '1'}}}\n",
            "and 'deploy.resources.limits.memory' (unset)",  # compose-go: unset counts as distinct
        ),
        (
            "    image: x\n    cpus: 0.5\n    deploy: {resources: {limits: {cpus: '1'}}}\n",
            "services.web.cpus: can't set distinct values on 'cpus'",
        ),
        (
            "    image: x\n    pids_limit: 5\n    deploy: {resources: {limits: {pids: 6}}}\n",
            "services.web.pids_limit: can't set distinct values on 'pids_limit'",
        ),
        (
            "    image: x\n    mem_reservation: 1m\n    deploy: {resources: {reservations: {}}}\n",
            "'deploy.resources.reservations.memory' (unset)",
        ),
    ],
)
def test_review_consistency_rules_like_compose_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, line: str
) -> None:
    err = _config(tmp_path, capsys, SVC + body)
    assert line in err and err.count("error:") == 1
    _ok(tmp_path, capsys, SVC + body, "--no-consistency")


def test_review_equal_limit_twins_are_accepted_and_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = (
        "    image: x\n    mem_limit: 1g\n    cpus: 1.5\n    pids_limit: 9\n"
        "    deploy: {resources: {limits: {memory: 1024m, cpus: '1.5', pids: 9}}}\n"
    )
    _ok(tmp_path, capsys, SVC + body)
    stack = _stack(tmp_path)
    web = stack.services["web"]
    assert (web.memory_limit, web.cpu_limit, web.pids_max) == (1 << 30, 1.5, 9)


def test_review_limits_from_either_key(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a: {image: x, mem_limit: 64m, cpus: 2, mem_reservation: 1m}\n"
        "  b: {image: x, deploy: {resources: {limits: {memory: 32m, cpus: '0.5'}, "
        "reservations: {memory: 2m}}}}\n"
    )
    stack = _stack(tmp_path)
    a, b = stack.services["a"], stack.services["b"]
    assert (a.memory_limit, a.cpu_limit) == (64 << 20, 2)
    assert (b.memory_limit, b.cpu_limit) == (32 << 20, 0.5)
    assert (a.memory_reservation, b.memory_reservation) == (1 << 20, 2 << 20)


def test_review_provider_services_need_no_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _ok(tmp_path, capsys, SVC + "    provider: {type: example}\n")


def test_review_network_mode_on_a_missing_service_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _config(tmp_path, capsys, SVC + "    image: x\n    network_mode: service:nope\n")
    assert err == (
        "error: compose.yaml:4:5: services.web.network_mode: "
        'network_mode refers to undefined service "nope"\n'
    )


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("    image: x\n    tty: maybe\n", 'tty: must be a boolean (true or false), not "maybe"'),
        ("    image: x\n    cpus: lots\n", 'services.web.cpus: must be a number, not "lots"'),
        ("    image: [x]\n", "services.web.image: must be a string, not ['x']"),
        ("    image: x\n    scale: 1.5\n", "services.web.scale: must be an integer, not 1.5"),
        ("    image: x\nnetworks: [a]\n", "compose.yaml:4:1: networks: must be a mapping"),
        ("    image: x\n    depends_on: db\n", "on: must be a mapping or a list of service names"),
        ("    image: x\n    ulimits: {nofile: a}\n", "nofile: must be an integer or a mapping"),
        ("    image: x\n    command: {a: 1}\n", "command: must be a string or a list of strings"),
        ("    image: x\n    environment: [1]\n", 'a mapping or a list of "KEY=VALUE" strings'),
        ("    image: x\n    stop_grace_period: 10x\n", 'duration "10x" (units us, ms, s, m, h'),
        ("    image: x\n    mem_limit: 1x\n", 'invalid size "1x" (a number of bytes or with a'),
        ("    image: x\n    ports: [80.5]\n", 'ports[0]: must be a string like "8080:80", a'),
        ("    image: x\n    secrets: [[a]]\n", "secrets[0]: must be a name or a mapping"),
        ("    image: ''\n", 'service "web" has neither an image nor a build context'),
        (
            "    image: x\n    ports: [{target: 80, host_ip: nope}]\n",
            'compose.yaml:4:26: services.web.ports[0].host_ip: invalid IP address "nope"',
        ),
    ],
)
def test_review_type_errors_say_what_the_value_must_be(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, line: str
) -> None:
    assert line in _config(tmp_path, capsys, SVC + body)


def test_review_service_that_is_a_string(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _config(tmp_path, capsys, "services:\n  web: nginx\n")
    assert err == 'error: compose.yaml:2:3: services.web: must be a mapping, not "nginx"\n'


def test_review_cycle_path_starts_at_the_first_service_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "services:\n  c: {image: x, depends_on: [a]}\n  b: {image: x, depends_on: [c]}\n"
        "  a: {image: x, depends_on: [b]}\n"
    )
    for _ in range(3):  # graphlib's order follows set hashing; the message must not
        err = _config(tmp_path, capsys, text)
        assert err == "error: compose.yaml:2:3: services.c: dependency cycle: c → a → b → c\n"


def test_review_config_of_named_services_keeps_their_dependencies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web: {image: x, depends_on: [db]}\n  db: {image: y, links: [log]}\n"
        "  log: {image: z}\n  other: {image: o}\n"
    )
    assert run(["config", "--services", "web"]) == 0
    assert capsys.readouterr().out == "db\nlog\nweb\n"
    assert run(["config", "--services", "nope"]) == 1
    assert capsys.readouterr().err == 'error: no such service: "nope"\n'


def test_review_optional_dependency_on_an_undefined_service_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """compose-go: ``required: false`` only excuses a service its profiles disable."""
    dep = "    image: x\n    depends_on:\n      db: {condition: service_started, required: false}\n"
    err = _config(tmp_path, capsys, SVC + dep)
    assert 'services.web.depends_on.db: depends_on refers to undefined service "db"' in err
    _ok(tmp_path, capsys, SVC + dep + "  db: {image: y, profiles: [debug]}\n")


def test_review_validation_problems_are_listed_in_file_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "    image: x\n    healthcheck: {intervall: 5s}\n    deploy: {resource: {}}\n    zz: 1\n"
    err = _config(tmp_path, capsys, SVC + body)
    assert [line.split(": ")[2] for line in err.splitlines()] == [
        "services.web.healthcheck.intervall",
        "services.web.deploy.resource",
        "services.web.zz",
    ]


def test_review_null_services_say_null(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "services: must be a mapping, not null" in _config(tmp_path, capsys, "services:\n")


@pytest.mark.parametrize(
    ("resources", "line"),
    [
        (
            "volumes:\n  data: {external: true, driver: local}\n",
            'compose.yaml:5:3: volumes.data: conflicting parameters "external" and "driver"',
        ),
        ("secrets:\n  pw: {name: pw}\n", "secrets.pw: one of file|environment must be set"),
        ("secrets:\n  pw: {file: f, environment: E}\n", "file|environment attributes are mutually"),
        ("secrets:\n  pw: {content: x}\n", "secrets.pw: content is not allowed for secrets"),
        ("configs:\n  c: {}\n", "configs.c: one of file|environment|content must be set"),
    ],
)
def test_review_resource_rules_like_compose_go_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], resources: str, line: str
) -> None:
    err = _config(tmp_path, capsys, SVC + "    image: x\n" + resources, "--no-consistency")
    assert line in err


def test_review_resources_provided_by_a_driver_or_external_need_no_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    resources = (
        "volumes:\n  data: {external: true, name: real, x-note: 1}\n"
        "secrets:\n  a: {driver: vault}\n  b: {external: true}\n"
        "configs:\n  c: {content: hello}\n"
    )
    _ok(tmp_path, capsys, SVC + "    image: x\n" + resources)


@pytest.mark.parametrize("command", [["schema"], ["config"]])
def test_review_output_to_a_missing_directory_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    (tmp_path / "compose.yaml").write_text(SVC + "    image: x\n")
    target = tmp_path / "missing" / "out"
    assert run([*command, "-o", str(target)]) == 1
    assert capsys.readouterr().err == (
        f"error: {target}: cannot write the output: No such file or directory\n"
    )
    assert not target.parent.exists()  # no directories made, as docker compose


def test_review_dangling_names_suggest_the_declared_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        SVC + "    image: x\n    depends_on: [dbb]\n    networks: [frnt]\n    secrets: [tokn]\n"
        "  db: {image: y}\nnetworks: {front: {}}\nsecrets: {token: {file: t}}\n"
    )
    err = _config(tmp_path, capsys, text)
    assert 'undefined service "dbb" (did you mean "db"?)' in err
    assert 'network "frnt" is not declared in top-level networks (did you mean "front"?)' in err
    assert 'secret "tokn" is not declared in top-level secrets (did you mean "token"?)' in err


def test_review_no_interpolate_honours_the_service_selection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web: {image: '${IMG}', depends_on: [db]}\n  db: {image: y}\n"
        "  other: {image: o}\n"
    )
    assert run(["config", "--no-interpolate", "--format", "json", "web"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["services"]) == ["db", "web"] and out["services"]["web"]["image"] == "${IMG}"
    assert run(["config", "--no-interpolate", "nope"]) == 1
    assert capsys.readouterr().err == 'error: no such service: "nope"\n'


def test_review_no_interpolate_listings_print_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web: {image: 'x:${TAG:-1}', depends_on: [db]}\n  db: {image: y}\n"
    )
    assert run(["config", "--no-interpolate", "--services"]) == 0
    assert capsys.readouterr().out == "db\nweb\n"
    assert run(["config", "--no-interpolate", "--hash", "web"]) == 0
    assert capsys.readouterr().out.startswith("web ")


def test_review_a_stack_without_services_still_prints_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "compose.yaml").write_text("name: demo\n")
    assert run(["config"]) == 0
    assert capsys.readouterr().out == "name: demo\nservices: {}\n"


def test_review_config_escapes_dollars_so_its_output_loads_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docker compose (PR 8632) prints every "$" of the interpolated model as "$$"."""
    monkeypatch.setenv("NAME", "x$y")
    (tmp_path / "compose.yaml").write_text(
        SVC + "    image: busybox\n    command: [sh, -c, 'echo $$HOME ${NAME}']\n"
    )
    assert run(["config"]) == 0
    first = capsys.readouterr().out
    assert "- echo $$HOME x$$y\n" in first
    (tmp_path / "out.yaml").write_text(first)
    assert run(["-f", "out.yaml", "config"]) == 0
    assert capsys.readouterr().out == first
    assert run(["config", "--no-interpolate"]) == 0
    assert "echo $$HOME ${NAME}" in capsys.readouterr().out  # as written


def test_review_quiet_no_interpolate_does_not_interpolate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "compose.yaml").write_text(SVC + "    image: ${IMG:?set it}\n")
    assert run(["config", "-q", "--no-interpolate"]) == 0
    assert run(["config", "-q"]) == 1
    assert 'required variable "IMG" is missing a value: set it' in capsys.readouterr().err
