"""Docker's exact rules for argv, environment, user, working dir and stop signal (pure).

argv (moby ``daemon/commit.go merge`` + the CLI's ``--entrypoint`` handling):
- no ``entrypoint`` in the service: the image's Entrypoint; ``command`` or else the image's Cmd;
- ``entrypoint`` given (even ``[]``/``""``): it replaces the image's Entrypoint AND drops the
  image's Cmd; only the service's ``command`` follows it.

environment (moby ``merge`` then ``container.CreateDaemonEnvironment``):
1. ``Config.Env`` = the service's env (env_file then environment, in that order, later wins),
   then every image ENV whose key the service did not set;
2. final = ``PATH=<default>``, ``HOSTNAME=<hostname>``, ``TERM=xterm`` (tty only), link vars,
   then ``Config.Env`` replacing existing keys in place (so the image's PATH replaces the default).
"""

from __future__ import annotations

import signal as _signal
from collections.abc import Iterable, Mapping, Sequence

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def build_argv(
    entrypoint: Sequence[str] | None,
    command: Sequence[str] | None,
    image_entrypoint: Sequence[str] | None,
    image_cmd: Sequence[str] | None,
) -> tuple[str, ...]:
    if entrypoint is None:
        ep = tuple(image_entrypoint or ())
        cmd = tuple(command) if command is not None else tuple(image_cmd or ())
        return ep + cmd
    ep = tuple(e for e in entrypoint if e != "") if list(entrypoint) == [""] else tuple(entrypoint)
    return ep + tuple(command or ())


def _key(entry: str) -> str:
    return entry.partition("=")[0]


def replace_or_append(base: Iterable[str], overrides: Iterable[str]) -> list[str]:
    """moby ``ReplaceOrAppendEnvValues``: same key replaces in place; ``KEY`` alone deletes."""
    out = list(base)
    for entry in overrides:
        keys = [_key(e) for e in out]
        k = _key(entry)
        if "=" not in entry:
            out = [e for e in out if _key(e) != k]
        elif k in keys:
            out[keys.index(k)] = entry
        else:
            out.append(entry)
    return out


def merge_config_env(service_env: Sequence[str], image_env: Sequence[str]) -> list[str]:
    if not service_env:
        return list(image_env)
    keys = {_key(e) for e in service_env}
    return list(service_env) + [e for e in image_env if _key(e) not in keys]


def env_list(mapping: Mapping[str, str | None]) -> list[str]:
    """A compose environment mapping as ``K=V`` entries; a ``None`` value is left out."""
    return [f"{k}={v}" for k, v in mapping.items() if v is not None]


def build_env(
    service_env: Sequence[str],
    image_env: Sequence[str],
    hostname: str,
    tty: bool = False,
    link_env: Sequence[str] = (),
) -> tuple[str, ...]:
    base = [f"PATH={DEFAULT_PATH}", f"HOSTNAME={hostname}"]
    if tty:
        base.append("TERM=xterm")
    base += list(link_env)
    return tuple(replace_or_append(base, merge_config_env(service_env, image_env)))


def parse_signal(value: str | int | None, default: int = int(_signal.SIGTERM)) -> int:
    """``SIGTERM``, ``TERM``, ``15`` or ``signal.SIGTERM`` → 15."""
    if value is None or value == "":
        return default
    if isinstance(value, int):
        return int(value)
    text = value.strip().upper()
    if text.isdigit():
        return int(text)
    name = text if text.startswith("SIG") else f"SIG{text}"
    try:
        return int(_signal.Signals[name])
    except KeyError:
        raise ValueError(f"invalid stop signal {value!r}") from None


def default_workdir(working_dir: str | None, image_working_dir: str) -> str:
    return working_dir or image_working_dir or "/"
