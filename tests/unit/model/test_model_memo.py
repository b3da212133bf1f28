"""`config` remembers what it validated: a second run of an unchanged stack skips pydantic and
prints the same text and warnings; any change to what the model reads is a fresh validation."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compose.cli import run

PROBE = """
import sys
from compose.cli import run
code = run(sys.argv[1:])
print("LOADER", "compose.stackfile.loader" in sys.modules, file=sys.stderr)
print("PYDANTIC", "pydantic" in sys.modules, "CODE", code, file=sys.stderr)
"""
STACK = """\
services:
  web:
    image: busybox:${TAG:-1}
    ports: ["8080:80"]
    stop_grace_period: 90s
    deploy:
      placement: {constraints: [node.role==manager]}
"""


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYCOMPOSE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "compose.yaml"
    path.write_text(STACK)
    return path


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """A fresh process (the memo's point is what a new process must import)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    *err, loader, probe = done.stderr.strip().splitlines()
    return done.stdout, "\n".join(err) + "\n" + loader + "\n" + probe


def test_memo_second_config_skips_pydantic_and_prints_the_same(stack: Path) -> None:
    first_out, first_err = _cli("config")
    second_out, second_err = _cli("config")
    assert first_err.endswith("PYDANTIC True CODE 0")
    assert second_err.endswith("PYDANTIC False CODE 0")
    assert second_out == first_out and "busybox:1" in first_out
    warning = "services.web.deploy.placement: not supported by pycompose, ignored"
    assert warning in first_err and warning in second_err  # the model's warning, remembered


def test_memo_formats_and_flags_are_separate_entries(stack: Path) -> None:
    for args in (("config",), ("config", "--format", "json"), ("config", "-q")):
        first_out, _ = _cli(*args)
        again_out, err = _cli(*args)
        assert again_out == first_out and err.endswith("PYDANTIC False CODE 0"), args
    assert _cli("config", "-q")[0] == ""
    assert _cli("config", "--format", "json")[0].startswith("{")


def test_memo_a_changed_file_or_variable_is_validated_again(stack: Path) -> None:
    _cli("config")
    stack.write_text(STACK.replace("8080:80", "9090:80"))
    out, err = _cli("config")
    assert "9090" in out and err.endswith("PYDANTIC True CODE 0")
    out, err = _cli("config", env={"TAG": "2"})
    assert "busybox:2" in out and err.endswith("PYDANTIC True CODE 0")
    out, err = _cli("config", env={"TAG": "2", "UNRELATED": "x"})
    assert "busybox:2" in out and err.endswith("PYDANTIC False CODE 0")


def test_memo_keeps_no_errors(stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack.write_text(STACK.replace("stop_grace_period: 90s", "stop_grace_period: soon"))
    for _ in range(2):
        assert run(["config"]) == 1
        assert "compose.yaml:5:5: services.web.stop_grace_period" in capsys.readouterr().err
    stack.write_text(STACK.replace("    ports:", "    portz:"))  # the model's own check
    for _ in range(2):
        assert run(["config"]) == 1
        assert "compose.yaml:4:5: services.web.portz: unknown key" in capsys.readouterr().err
    assert not list((stack.parent / "cache").rglob("*.json"))


def test_memo_without_a_writable_cache_still_works(
    stack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = stack.parent / "file"
    blocker.write_text("")
    monkeypatch.setenv("PYCOMPOSE_CACHE_DIR", str(blocker))  # not a directory
    assert run(["config"]) == 0
    assert "busybox:1" in capsys.readouterr().out


def test_memo_keeps_a_bounded_number_of_entries(
    stack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from compose.model import memo

    monkeypatch.setattr(memo, "KEEP", 3)
    for tag in range(6):
        monkeypatch.setenv("TAG", str(tag))
        assert run(["config"]) == 0
    capsys.readouterr()
    assert len(list((stack.parent / "cache" / "model").glob("*.json"))) == 3


def test_model_package_names_resolve_lazily() -> None:
    import compose.model as model

    assert sorted(model._HOME) == model.__all__
    assert all(getattr(model, name) is not None for name in model.__all__)


def test_memo_unchanged_files_skip_the_loader_too(stack: Path) -> None:
    first_out, _ = _cli("config")
    out, err = _cli("config")
    assert out == first_out and err.endswith("LOADER False\nPYDANTIC False CODE 0")


@pytest.mark.parametrize(
    ("change", "seen"),
    [
        (lambda d: (d / ".env").write_text("TAG=7\n"), "busybox:7"),
        (lambda d: (d / "compose.override.yaml").write_text("services: {web: {image: x}}\n"), "x"),
        (lambda d: (d / "web.env").write_text("B=2\n"), 'B: "2"'),
    ],
)
def test_memo_a_new_or_changed_file_the_loader_reads_is_seen(
    stack: Path, change: Any, seen: str
) -> None:
    stack.write_text(STACK + "    env_file: [{path: web.env, required: false}]\n")
    (stack.parent / "web.env").write_text("B=1\n")
    _cli("config")
    change(stack.parent)
    out, err = _cli("config")
    assert seen in out and "LOADER True" in err


def test_memo_stdin_is_never_replayed(stack: Path) -> None:
    text = STACK.replace("8080:80", "7070:80")
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "compose", "-f", "-", "config"],
            input=text,
            capture_output=True,
            text=True,
        )
        assert "7070" in done.stdout
    assert not list((stack.parent / "cache" / "model").glob("load-*.json"))


FS_CALLS = re.compile(
    r"(?<!fs)\.(is_file|is_dir|exists|read_text|read_bytes|expanduser|glob)\(|\.(iterdir|stat|resolve)\(\)"
    r"|os\.path\.(isfile|isdir|exists|realpath)|\bopen\(|Path\.home|sys\.stdin|os\.(listdir|scandir)"
)


def test_the_loader_asks_the_filesystem_only_through_fs() -> None:
    """What ``memo.recall`` replays must be every question the loader asks."""
    import compose.stackfile as package

    folder = Path(package.__file__).parent
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(folder.glob("*.py"))
        if path.name != "fs.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if FS_CALLS.search(line.split("#")[0]) and not line.lstrip().startswith(('"', "'"))
    ]
    assert found == []


STACK_PROBE = """
import sys
from compose.stackfile import LoadOptions
from compose.supervisor.service import load_stack
from compose.planner.stack import desired_from_stack
stack = load_stack(LoadOptions(files=("compose.yaml",)))
hashes = [s.config_hash for s in desired_from_stack(stack).services]
print(stack.services["web"].image, stack.warnings, hashes)
print("LOADER", "compose.stackfile.loader" in sys.modules, file=sys.stderr)
built = type(stack.services["web"]).__pydantic_complete__  # validators built (defer_build)
print("SCHEMA", built, file=sys.stderr)
"""


def _supervisor_load(env: dict[str, str] | None = None) -> tuple[str, str]:
    """What the detached supervisor does first: load the stack (and its config hashes)."""
    done = subprocess.run(
        [sys.executable, "-c", STACK_PROBE],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return done.stdout, done.stderr


def test_memo_an_unchanged_stack_reaches_the_supervisor_validated(stack: Path) -> None:
    """The supervisor's second load of the same file unpickles the validated stack: neither
    the loader nor pydantic's schema builder runs, and the stack and its hashes are the same."""
    first, first_err = _supervisor_load()
    again, err = _supervisor_load()
    assert "LOADER True" in first_err and "SCHEMA True" in first_err
    assert again == first and "busybox:1" in first and "placement" in first
    assert "LOADER False" in err and "SCHEMA False" in err
    stack.write_text(STACK.replace("8080:80", "9090:80"))
    changed, err = _supervisor_load()
    assert "LOADER True" in err and changed.split("[")[-1] != first.split("[")[-1]  # new hash


def test_memo_a_pickle_others_may_write_is_never_loaded(stack: Path) -> None:
    first, _ = _supervisor_load()
    (pickled,) = (stack.parent / "cache" / "model").glob("stack-*.pickle")
    pickled.chmod(0o666)
    again, err = _supervisor_load()
    assert again == first and "LOADER True" in err  # validated again, not unpickled
