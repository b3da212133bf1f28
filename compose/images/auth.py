"""Credentials from Docker's client config and parsing of ``WWW-Authenticate`` challenges.

Credentials: ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``, ``auths`` entries with
``auth`` (base64 user:password) or ``username``/``password``. Keys may be a bare host
(``127.0.0.1:5000``) or a URL; Docker Hub's key is ``https://index.docker.io/v1/``.
Credential helpers (``credsStore``, ``credHelpers``) are not run.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

from compose.errors import UserError

HUB_AUTH_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io")
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def _normalize_key(key: str) -> str:
    key = key.removeprefix("https://").removeprefix("http://")
    return key.split("/", 1)[0]


def credentials(domain: str, path: Path | None = None) -> tuple[str, str] | None:
    """(username, password) for ``domain`` or None."""
    path = path or docker_config_path()
    try:
        auths = json.loads(path.read_text()).get("auths") or {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read Docker credentials: {exc}") from exc
    wanted = {_normalize_key(k) for k in HUB_AUTH_KEYS} if domain == "docker.io" else {domain}
    for key, entry in auths.items():
        if _normalize_key(key) in wanted:
            return _decode(entry, path)
    return None


def _decode(entry: dict[str, str], path: Path) -> tuple[str, str] | None:
    if entry.get("auth"):
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: invalid auth entry: {exc}") from exc
        return user, password
    if entry.get("username"):
        return entry["username"], entry.get("password", "")
    return None


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="x",service="y"`` -> ("bearer", {"realm": "x", "service": "y"})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m[1].lower(): m[2] if m[2] or not m[3] else m[3] for m in _PARAM.finditer(rest)}
    return scheme.lower(), params
