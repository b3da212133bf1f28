"""The CLI's contract: exit codes and one-line errors, no traceback without --debug."""

from __future__ import annotations

import subprocess
import sys

from compose.cli import run


def test_version_exits_zero(capsys):
    assert run(["version", "--short"]) == 0
    assert capsys.readouterr().out.strip() == "0.1.0"


def test_unknown_command_is_a_user_error(capsys):
    assert run(["no-such-command"]) == 1
    assert "No such command" in capsys.readouterr().err


def test_help_lists_commands(capsys):
    assert run(["--help"]) == 0
    assert "config" in capsys.readouterr().out


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; from compose.cli import run; run(['--help']);"
        "mods = ('pyroute2', 'httpx', 'rich', 'anyio', 'pydantic');"
        "heavy = [m for m in mods if m in sys.modules];"
        "print('HEAVY=' + ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY="
