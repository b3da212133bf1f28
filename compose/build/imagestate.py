"""The image a stage is building, as BuildKit's dispatcher tracks it while it walks the stage.

``ImageState`` holds the image config being written (Docker's ``config`` object, kept as the
JSON dict BuildKit writes, ``omitempty`` rules included), the history entries, and the
dispatcher's own state that never reaches the image: the environment RUN and variable
expansion see (image env + declared ARGs), the declared ARGs for RUN's history line, and
whether this stage set CMD (an ENTRYPOINT clears an inherited CMD otherwise).
"""

from __future__ import annotations

import copy
from typing import Any

from msgspec import Struct, field

from compose.build.plan import HistoryEntry

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_SHELL = ("/bin/sh", "-c")


def add_env(env: list[str], key: str, value: str) -> list[str]:
    """Replace ``key`` in place or append it (BuildKit's addEnv on the config)."""
    out = list(env)
    for i, item in enumerate(out):
        if item.partition("=")[0] == key:
            out[i] = f"{key}={value}"
            return out
    out.append(f"{key}={value}")
    return out


class ImageState(Struct):
    config: dict[str, Any] = field(default_factory=dict)
    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""
    author: str = ""
    history: list[HistoryEntry] = field(default_factory=list)
    base_history: list[dict[str, Any]] = field(default_factory=list)
    state_env: dict[str, str] = field(default_factory=dict)
    build_args: list[tuple[str, str | None]] = field(default_factory=list)
    cmd_set: bool = False
    layers: int = 0  # layers of the image so far (base image's + this chain's steps)
    _env: dict[str, str] | None = None

    @classmethod
    def scratch(cls, platform: str) -> ImageState:
        os_name, arch, variant = _split_platform(platform)
        state = cls(
            config={"Env": [f"PATH={DEFAULT_PATH}"], "WorkingDir": "/"},
            os=os_name,
            architecture=arch,
            variant=variant,
        )
        state.state_env = {"PATH": DEFAULT_PATH}
        return state

    @classmethod
    def from_image(cls, doc: dict[str, Any]) -> ImageState:
        """The state at ``FROM <image>``: its config, history and env (PATH added if absent)."""
        config = copy.deepcopy(doc.get("config") or {})
        env = list(config.get("Env") or [])
        if not any(e.partition("=")[0] == "PATH" for e in env):
            env.append(f"PATH={DEFAULT_PATH}")
        config["Env"] = env
        state = cls(
            config=config,
            os=doc.get("os", "linux"),
            architecture=doc.get("architecture", "amd64"),
            variant=doc.get("variant", ""),
            author=doc.get("author", ""),
            base_history=list(doc.get("history") or []),
            layers=len((doc.get("rootfs") or {}).get("diff_ids") or []),
        )
        state.state_env = dict(e.partition("=")[::2] for e in env)
        return state

    def child(self) -> ImageState:
        """A stage built FROM this one: same config and env, ONBUILD triggers not carried."""
        out = copy.deepcopy(self)
        out.config.pop("OnBuild", None)
        out.cmd_set = False
        return out

    # -- the dispatcher's view ----------------------------------------------------------
    def set_state_env(self, key: str, value: str) -> None:
        self.state_env.pop(key, None)
        self.state_env[key] = value

    @property
    def workdir(self) -> str:
        return str(self.config.get("WorkingDir") or "/")

    @property
    def user(self) -> str:
        return str(self.config.get("User") or "")

    @property
    def shell(self) -> tuple[str, ...]:
        return tuple(self.config.get("Shell") or DEFAULT_SHELL)

    def with_shell(self, args: tuple[str, ...]) -> tuple[str, ...]:
        return (*self.shell, " ".join(args))

    def commit(self, created_by: str, layer: bool, marked: bool | None = None) -> None:
        """One history entry; RUN and COPY/ADD (``marked``) end with `` # buildkit``, as
        BuildKit's commitToHistory writes them (WORKDIR's layer does not)."""
        suffix = " # buildkit" if (layer if marked is None else marked) else ""
        self.history.append(HistoryEntry(created_by + suffix, empty_layer=not layer))

    def meta(self, created_by: str) -> None:
        self.commit(created_by, False)

    # -- config changes -----------------------------------------------------------------
    def set_env(self, key: str, value: str) -> None:
        self.set_state_env(key, value)
        if self._env is None:
            self._env = dict(e.partition("=")[::2] for e in self.config.pop("Env", None) or [])
        self._env[key] = value  # an existing key keeps its place, as BuildKit's addEnv does

    def final_config(self) -> dict[str, Any]:
        """The config object as written into the image (Env materialized)."""
        out = dict(self.config)
        if self._env is not None:
            out["Env"] = [f"{k}={v}" for k, v in self._env.items()]
        return out

    def set_label(self, key: str, value: str) -> None:
        self.config.setdefault("Labels", {})
        if self.config["Labels"] is None:
            self.config["Labels"] = {}
        self.config["Labels"][key] = value

    def set_list(self, key: str, values: tuple[str, ...] | list[str] | None) -> None:
        if values:
            self.config[key] = list(values)
        else:
            self.config.pop(key, None)

    def add_keys(self, key: str, names: list[str]) -> None:
        current = self.config.get(key) or {}
        current.update({name: {} for name in names})
        self.config[key] = current


def _split_platform(platform: str) -> tuple[str, str, str]:
    parts = platform.split("/")
    return parts[0], parts[1] if len(parts) > 1 else "amd64", parts[2] if len(parts) > 2 else ""
