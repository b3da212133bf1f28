"""Global CLI options → ``LoadOptions`` → a validated ``Stack``; the one way commands load.

Warnings (the loader's and the model's) go to stderr once per run, however many times a
command loads the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.model import Stack
    from compose.stackfile import LoadOptions

_shown: set[str] = set()


def load_options(options: GlobalOptions, **overrides: Any) -> LoadOptions:
    """The loader's options for these global flags; ``overrides`` replace single fields."""
    from compose.stackfile import LoadOptions

    base: dict[str, Any] = {
        "files": tuple(options.files),
        "project_name": options.project_name,
        "project_directory": options.project_directory,
        "env_files": tuple(options.env_files),
        "profiles": tuple(options.profiles),
        "environ": dict(options.environ),
        "cwd": options.cwd,
    }
    return LoadOptions(**{**base, **overrides})


def load_from_cli(options: GlobalOptions, *, consistency: bool = True, **overrides: Any) -> Stack:
    """Load and validate the stack the global flags name; print its warnings once. An
    unchanged stack comes from the memo (``compose.model.memo.load_stack``: no YAML parser,
    loader or validation), as the supervisor's does."""
    opts = load_options(options, **overrides)
    if consistency:
        from compose.model import memo

        stack, _ = memo.load_stack(opts)
    else:
        from compose.model import load_stack

        stack = load_stack(opts, consistency=False)
    show_warnings(stack.warnings)
    return stack


def show_warnings(warnings: Sequence[str]) -> None:
    """Print each warning once per CLI invocation (``ctx.meta`` is shared by the whole run)."""
    ctx = click.get_current_context(silent=True)
    shown = _shown if ctx is None else ctx.meta.setdefault("pycompose.warnings", set())
    for warning in warnings:
        if warning not in shown:
            shown.add(warning)
            click.echo(f"warning: {warning}", err=True)
