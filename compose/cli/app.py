"""The click group, global options and lazy command loading.

Commands live in ``compose/cli/commands/<module>.py`` and each exposes ``command``
(a ``click.Command``). They are imported only when run, so ``pycompose --help`` stays fast.
To add a command, add one line to ``COMMANDS``.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import click

# name -> (module under compose.cli.commands, one-line help shown by --help)
COMMANDS: dict[str, tuple[str, str]] = {
    "config": ("config", "Parse, resolve and render the stack in canonical form"),
    "up": ("up", "Create and start containers"),
    "down": ("down", "Stop and remove containers, networks (and volumes with -v)"),
    "ps": ("ps", "List containers"),
    "logs": ("logs", "View output from containers"),
    "exec": ("exec", "Execute a command in a running container"),
    "attach": ("attach", "Attach this terminal to a service's running container"),
    "start": ("start", "Start existing containers"),
    "stop": ("stop", "Stop running containers without removing them"),
    "restart": ("restart", "Restart service containers"),
    "kill": ("kill", "Force stop service containers"),
    "pause": ("pause", "Pause services"),
    "unpause": ("unpause", "Unpause services"),
    "rm": ("rm", "Remove stopped service containers"),
    "top": ("top", "Display the running processes"),
    "stats": ("stats", "Display a live stream of the containers' resource usage"),
    "port": ("port", "Print the public port for a port binding"),
    "ls": ("ls", "List running projects"),
    "events": ("events", "Receive real time events from containers"),
    "wait": ("wait", "Block until containers of services stop"),
    "watch": ("watch", "Watch develop.watch paths: sync, restart or rebuild on changes"),
    "cp": ("cp", "Copy files between a service container and the local filesystem"),
    "create": ("create", "Create containers for services"),
    "run": ("run", "Run a one-off command on a service"),
    "scale": ("scale", "Scale services (SERVICE=NUM ...)"),
    "image": ("image", "Manage images: pull, ls, rm, prune, inspect, load"),
    "images": ("images", "List images used by the stack's services"),
    "pull": ("pull", "Pull service images"),
    "build": ("build", "Build or rebuild services"),
    "builder": ("builder", "Manage the build cache: prune"),
    "schema": ("schema", "Print the JSON Schema of the stack model"),
    "kube": ("kube", "Convert the stack to Kubernetes manifests (kube convert)"),
    "version": ("version", "Show the pycompose version"),
}


@dataclass(frozen=True)
class GlobalOptions:
    files: tuple[str, ...] = ()
    project_name: str | None = None
    project_directory: str | None = None
    env_files: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    debug: bool = False
    dry_run: bool = False
    progress: str = "auto"  # auto tty plain json quiet (compose.cli.progress)
    ansi: str = "auto"  # never always auto
    parallel: int = -1  # max actions at once (-1: unlimited)
    compatibility: bool = False
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def cwd(self) -> Path:
        return Path.cwd()

    def color(self, tty: bool) -> bool:
        """ANSI colors on a stream (``tty``: it is a terminal): ``--ansi`` decides."""
        return self.ansi == "always" or (self.ansi == "auto" and tty)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            from compose.cli.commands import _unsupported

            return _unsupported.make(cmd_name) if cmd_name in _unsupported.REASONS else None
        module = importlib.import_module(f"compose.cli.commands.{entry[0]}")
        command: click.Command = module.command
        if not any(p.name == "dry_run" for p in command.params):
            command.params.append(_dry_run_option(cmd_name))
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


# commands that change nothing: --dry-run is theirs for free; others without a dry run of
# their own refuse it rather than act (docker's would print what it would do)
READ_ONLY = frozenset(
    "config ps ls logs images port top stats events version schema kube wait".split()
)


def _dry_run_option(name: str) -> click.Option:
    """docker compose accepts ``--dry-run`` on every command; so does pycompose, and a
    command that would act without being able to plan says so."""

    def check(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        options = ctx.find_object(GlobalOptions)
        if (value or (options is not None and options.dry_run)) and name not in READ_ONLY:
            raise click.UsageError(
                f"`{name}` has no dry run: it would act",
                ctx=ctx,
            )

    return click.Option(
        ["--dry-run"], is_flag=True, hidden=True, expose_value=False, callback=check
    )


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-f", "--file", "files", multiple=True, help="Compose file(s) ('-' = stdin).")
@click.option("-p", "--project-name", help="Project name.")
@click.option("--project-directory", help="Alternate working directory (default: first file's).")
@click.option("--env-file", "env_files", multiple=True, help="Alternate environment file(s).")
@click.option("--profile", "profiles", multiple=True, help="Profile(s) to enable.")
@click.option("--dry-run", is_flag=True, help="Print what would be done; change nothing.")
@click.option(
    "--progress",
    type=click.Choice(["auto", "tty", "plain", "json", "quiet"]),
    default="auto",
    envvar="COMPOSE_PROGRESS",
    help="Progress output: a live view (tty), lines (plain), JSON lines or nothing.",
)
@click.option(
    "--ansi",
    type=click.Choice(["never", "always", "auto"]),
    default="auto",
    envvar="COMPOSE_ANSI",
    help="When to print ANSI control characters.",
)
@click.option(
    "--parallel",
    type=int,
    default=-1,
    envvar="COMPOSE_PARALLEL_LIMIT",
    help="Max containers acted on at once (-1: unlimited).",
)
@click.option("--compatibility", is_flag=True, help="Accepted; container names keep the v2 form.")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.version_option(package_name="pycompose", message="pycompose version %(version)s")
@click.pass_context
def cli(ctx: click.Context, /, **opts: object) -> None:
    """Run Compose stacks on this Linux host, no container engine needed."""
    ctx.obj = options = GlobalOptions(**opts)  # type: ignore[arg-type]
    if options.parallel == 0 or options.parallel < -1:
        raise click.BadParameter(
            "must be -1 (unlimited) or a positive number", param_hint="--parallel"
        )
    if options.parallel > 0:  # the executor of this process and of a supervisor it starts
        os.environ["COMPOSE_PARALLEL_LIMIT"] = str(options.parallel)
    from compose import paths

    paths.private_umask()  # state, sockets and logs are private whatever the caller's umask
    if opts.get("debug"):
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
