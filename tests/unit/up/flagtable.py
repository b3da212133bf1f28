"""The README's table of docker compose's commands and flags: docker's side from its pinned
``--help`` (``docker_compose_help/``), pycompose's from its click commands; a note for each
flag pycompose treats differently or refuses. ``python -m tests.unit.up.flagtable`` prints it.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

HELP = Path(__file__).with_name("docker_compose_help")
BEGIN, END = "<!-- flag-table:begin -->", "<!-- flag-table:end -->"
OPTION = re.compile(r"^  (?:-(\w), |    )--([\w-]+)")
GLOBAL = "(global)"

# (command, flag) -> what differs; command -> why a whole command is refused
DIFFERS = {
    (GLOBAL, "--compatibility"): "accepted; container names keep the v2 form (`p-web-1`)",
    (GLOBAL, "--parallel"): "bounds the containers acted on at once (`COMPOSE_PARALLEL_LIMIT`)",
    ("up", "--menu"): "accepted, no menu (hidden)",
    ("up", "-y"): "accepted: pycompose asks nothing",
    ("up", "--quiet-build"): "accepted; a build prints what `build` prints",
    ("create", "-y"): "accepted: pycompose asks nothing",
    ("run", "--use-aliases"): "accepted: a one-off is reached by its name",
    ("run", "--quiet-build"): "accepted; a build prints what `build` prints",
    ("exec", "--privileged"): "accepted; the exec gets the container's capabilities",
    ("restart", "--no-deps"): "accepted: restart never touches dependencies",
    ("kill", "--remove-orphans"): "accepted, no effect",
    ("watch", "--prune"): "accepted: a rebuilt image replaces its tag",
    ("events", "--json"): "pycompose's JSON lines (time, action, container, service), "
    "not docker's event objects",
    ("attach", "--detach-keys"): "ctrl-<key> sequences (default ctrl-p,ctrl-q)",
}
COMMANDS_REFUSED = ("bridge", "commit", "export", "publish", "push", "volumes")


def docker_flags() -> dict[str, list[tuple[str | None, str]]]:
    """command -> [(short, long)] as docker compose lists them."""
    out: dict[str, list[tuple[str | None, str]]] = {}
    for path in sorted(HELP.glob("*.txt")):
        name = GLOBAL if path.stem == "_global" else path.stem
        flags = []
        for line in path.read_text().splitlines():
            match = OPTION.match(line)
            if match and match.group(2) != "help":
                flags.append((match.group(1), match.group(2)))
        out[name] = flags
    return out


def pycompose_options(command: str) -> dict[str, click.Option]:
    """long flag -> pycompose's option (the global ones for GLOBAL)."""
    from compose.cli.app import cli

    ctx = click.Context(cli)
    cmd = cli if command == GLOBAL else cli.get_command(ctx, command)
    found: dict[str, click.Option] = {}
    for param in cmd.params if cmd is not None else []:
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                if opt.startswith("--"):
                    found[opt] = param
    return found


def rows() -> list[tuple[str, str, str]]:
    """(command, flags as docker writes them, what pycompose does)."""
    out = []
    for command, flags in docker_flags().items():
        if command in COMMANDS_REFUSED:
            out.append((command, "", "error: not supported (says what to use instead)"))
            continue
        ours = pycompose_options(command)
        for short, long in flags:
            shown = f"-{short}, --{long}" if short else f"--{long}"
            note = DIFFERS.get((command, f"-{short}")) or DIFFERS.get((command, f"--{long}"))
            if f"--{long}" not in ours:
                status = "error: unknown flag"
            elif note:
                status = f"differs: {note}"
            else:
                status = "yes"
            out.append((command, shown, status))
    return out


def render() -> str:
    lines = [
        "| command | flag | pycompose |",
        "| --- | --- | --- |",
        *(f"| {c} | {f and '`' + f + '`'} | {s} |" for c, f, s in rows()),
    ]
    return "\n".join(lines)


def readme_table(readme: Path) -> str:
    text = readme.read_text()
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


if __name__ == "__main__":
    print(render())
