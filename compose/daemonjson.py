"""Docker's daemon.json, pycompose's settings file: ``paths.config_dir()/daemon.json``, with
Docker's keys. The one reader; each part takes its own keys (images: ``registry-mirrors``,
``insecure-registries``; networks: ``default-address-pools``, ``ip-forward``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compose import paths
from compose.errors import UserError

Settings = dict[str, Any]  # the file's JSON object, as parsed: each reader types its own keys


def load(path: Path | None = None) -> Settings:
    """The settings ({} without a file); a file that can't be read or parsed is an error."""
    path = path or paths.config_dir() / "daemon.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the settings: {exc}") from exc
    if not isinstance(doc, dict):
        raise UserError(f"{path}: the settings must be a JSON object")
    return doc
