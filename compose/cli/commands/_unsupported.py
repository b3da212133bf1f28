"""The docker compose commands pycompose does not do: each says so, why, and what to use
instead (exit 1), rather than click's bare ``No such command``."""

from __future__ import annotations

import click

REASONS: dict[str, tuple[str, str]] = {
    "bridge": (
        "pycompose converts stacks with its own converter",
        "pycompose kube convert (Kubernetes manifests)",
    ),
    "commit": (
        "a container's changes are not turned into images",
        "describe the image in a Dockerfile: pycompose build",
    ),
    "export": (
        "a container's filesystem is not exported as a tar archive",
        "pycompose cp SERVICE:/path DEST copies its files",
    ),
    "publish": ("a stack is not published as an OCI artifact", "share the compose file itself"),
    "push": (
        "service images are pushed by the builder",
        "pycompose build --push",
    ),
    "volumes": (
        "volumes are not listed by this command",
        "pycompose config --volumes names the stack's volumes",
    ),
}


def make(name: str) -> click.Command:
    reason, instead = REASONS[name]

    @click.command(
        name,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
        hidden=True,
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        from compose.errors import UserError

        raise UserError(f"`{name}` is not supported by pycompose: {reason}", hint=instead)

    return command
