"""Docker's argv / env / signal / workdir rules (moby merge + CreateDaemonEnvironment)."""

from __future__ import annotations

import pytest

from compose.runtime.dockerrules import (
    DEFAULT_PATH,
    build_argv,
    build_env,
    default_workdir,
    env_list,
    parse_signal,
    replace_or_append,
)


@pytest.mark.parametrize(
    ("entrypoint", "command", "expected"),
    [
        (None, None, ("/entry", "-x", "run", "server")),
        (None, ["other"], ("/entry", "-x", "other")),
        (None, [], ("/entry", "-x")),
        (["/bin/sh", "-c"], None, ("/bin/sh", "-c")),  # entrypoint drops the image's Cmd
        (["/bin/sh", "-c"], ["echo hi"], ("/bin/sh", "-c", "echo hi")),
        ([""], None, ()),
        ([""], ["ls"], ("ls",)),
        ([], ["ls"], ("ls",)),
    ],
)
def test_argv_rules(entrypoint, command, expected):
    assert build_argv(entrypoint, command, ("/entry", "-x"), ("run", "server")) == expected


def test_image_without_entrypoint_uses_cmd():
    assert build_argv(None, None, None, ("redis-server",)) == ("redis-server",)


def test_env_order_and_precedence():
    env = build_env(
        service_env=["B=service", "C=3"],
        image_env=["PATH=/image/bin", "A=1", "B=image"],
        hostname="abc123",
        tty=True,
        link_env=["DB_PORT=tcp://10.0.0.2:5432", "C=link"],
    )
    assert env == (
        "PATH=/image/bin",  # the image's PATH replaces the default in place
        "HOSTNAME=abc123",
        "TERM=xterm",
        "DB_PORT=tcp://10.0.0.2:5432",
        "C=3",  # the user's env wins over link vars
        "B=service",
        "A=1",
    )


def test_env_defaults_without_tty_or_image_path():
    assert build_env([], ["X=1"], "h") == (f"PATH={DEFAULT_PATH}", "HOSTNAME=h", "X=1")


def test_replace_or_append_deletes_a_bare_key():
    assert replace_or_append(["A=1", "B=2"], ["A", "B=3", "C=4"]) == ["B=3", "C=4"]


def test_env_list_skips_unset_values():
    assert env_list({"A": "1", "B": None, "C": ""}) == ["A=1", "C="]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 15), ("SIGUSR1", 10), ("usr1", 10), ("9", 9), (2, 2), ("SIGQUIT", 3)],
)
def test_parse_signal(value, expected):
    assert parse_signal(value) == expected


def test_parse_signal_rejects_unknown():
    with pytest.raises(ValueError, match="invalid stop signal"):
        parse_signal("SIGNOPE")


def test_default_workdir():
    assert default_workdir(None, "") == "/"
    assert default_workdir(None, "/app") == "/app"
    assert default_workdir("/srv", "/app") == "/srv"
