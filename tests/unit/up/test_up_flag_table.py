"""The README's table of docker compose's commands and flags is what the two CLIs say: docker's
pinned ``--help`` on one side, pycompose's click commands on the other; what it calls an error
is one, with a message."""

from __future__ import annotations

import flagtable
import pytest

from compose.cli import run

README = flagtable.HELP.parents[3] / "README.md"


def test_the_readme_table_is_the_generated_one():
    assert flagtable.readme_table(README) == flagtable.render(), (
        "regenerate it: python -m tests.unit.up.flagtable"
    )


def test_every_docker_command_and_flag_has_a_row():
    listed = {(c, f) for c, f, _ in flagtable.rows()}
    for command, flags in flagtable.docker_flags().items():
        if command in flagtable.COMMANDS_REFUSED:
            assert (command, "") in listed
            continue
        for short, long in flags:
            assert (command, f"-{short}, --{long}" if short else f"--{long}") in listed


def test_docker_short_flags_are_pycompose_short_flags_too():
    """Combined short flags from habit (`exec -it`, `run --rm -it`) need the same letters."""
    for command, flags in flagtable.docker_flags().items():
        if command in flagtable.COMMANDS_REFUSED:
            continue
        ours = flagtable.pycompose_options(command)
        for short, long in flags:
            option = ours.get(f"--{long}")
            if option is not None and short:
                assert f"-{short}" in option.opts, (command, short, long)


@pytest.mark.parametrize("command", flagtable.COMMANDS_REFUSED)
def test_a_refused_command_says_why_and_what_instead(command, capsys):
    assert run([command, "x"]) == 1
    err = capsys.readouterr().err
    assert f"`{command}` is not supported by pycompose" in err and "hint: " in err


def test_an_unknown_flag_is_a_usage_error_with_docker_composes_code(capsys):
    assert run(["ps", "--all-resources"]) == 1
    assert "No such option '--all-resources'" in capsys.readouterr().err


def test_combined_short_flags_parse(monkeypatch):
    """`exec -it web sh` and `run --rm -it web sh`: the flags, not a service named "-it"."""
    from compose.cli.app import cli

    for argv in (["exec", "-it", "web", "sh"], ["run", "--rm", "-it", "web", "sh"]):
        ctx = cli.make_context("pycompose", list(argv), resilient_parsing=True)
        sub = cli.get_command(ctx, argv[0])
        parsed = sub.make_context(argv[0], argv[1:], parent=ctx)
        assert parsed.params["service"] == "web" and parsed.params["argv"] == ("sh",)
        assert parsed.params["tty"] and parsed.params["interactive"]
