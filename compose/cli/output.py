"""Writing a command's text output to a file (``config -o``, ``schema -o``)."""

from __future__ import annotations

from pathlib import Path

from compose.errors import UserError


def write_output(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path``, as docker compose does: no parent directories are made; a
    new file gets the user's umask (the CLI's own is private, ``paths.private_umask``)."""
    from compose import paths

    try:
        with paths.users_umask():
            Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot write the output: {exc.strerror or exc}") from None
