"""Writing a command's text output to a file (``config -o``, ``schema -o``)."""

from __future__ import annotations

import os
from pathlib import Path

from compose.errors import UserError


def write_output(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path``, as docker compose does: no parent directories are made; a
    new file gets the user's umask (the CLI's own is private, ``paths.private_umask``)."""
    from compose import paths

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 & ~paths.user_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UserError(f"{path}: cannot write the output: {exc.strerror or exc}") from None
