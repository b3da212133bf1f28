"""`run` and `exec` attach the caller's stdin, and a TTY when it is a terminal (docker compose)."""

from __future__ import annotations

import subprocess

import pytest
from e2e_helpers import Cli, in_pty, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(240)]

STACK = """
services:
  svc:
    image: IMAGE
    command: SLEEP
    environment: {FROM_FILE: file}
"""


def test_run_pipes_stdin_without_tty(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    proc = subprocess.run(
        cli.argv("run", "--rm", "-T", "svc", "cat"),
        input="hi\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (proc.returncode, proc.stdout) == (0, "hi\n"), proc.stderr
    flags = ["-e", "X=1", "-u", "nobody", "-w", "/tmp", "--entrypoint", "sh", "svc"]
    script = 'echo "$X $FROM_FILE $(id -un) $(pwd)"; read line; echo "got $line"; exit 7'
    proc = subprocess.run(
        cli.argv("run", "--rm", "-T", *flags, "-c", script),
        input="typed\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 7, proc.stderr
    assert proc.stdout == "1 file nobody /tmp\ngot typed\n"
    no_stdin = subprocess.run(
        cli.argv("run", "--rm", "-T", "--no-interactive", "svc", "cat"),
        input="ignored\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (no_stdin.returncode, no_stdin.stdout) == (0, "")
    assert "run" not in cli.run("ps", "-a", "--format", "{{.Name}}", check=False).stdout


def test_run_is_interactive_under_a_tty(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    out, code = in_pty(cli.argv("run", "--rm", "svc", "sh"), "echo $((6*7)); exit 3\r", b"# ")
    assert code == 3, out
    assert "42" in out.split("exit 3", 1)[-1], out
    out, code = in_pty(cli.argv("run", "--rm", "svc", "sh", "-c", "tty; exit 4"), "", b"")
    assert code == 4 and "/dev/pts/" in out, out


def test_exec_allocates_a_tty_in_a_terminal(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    cli.run("up", "-d")
    out, code = in_pty(cli.argv("exec", "svc", "sh"), "echo $((6*7)); exit 5\r", b"# ")
    assert code == 5, out
    assert "42" in out.split("exit 5", 1)[-1], out
    piped = cli.run("exec", "-T", "svc", "sh", "-c", "tty; exit 0", check=False)
    assert "not a tty" in piped.stdout


def test_run_detached_with_a_name(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    name = f"{project}-oneoff"
    out = cli.run("run", "-d", "--name", name, "svc", "sh", "-c", "echo detached; sleep 1000")
    assert out.stdout.strip() == name
    listed = cli.run("ps", "-a", "--format", "json").stdout
    assert name in listed
