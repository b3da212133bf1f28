"""TEXT -> TREE: the pure first half of the load phase.

``load_stack_tree(LoadOptions(...))`` finds the stack files, parses them with line/column marks,
interpolates, merges (-f files, ``extends``, ``include``), applies profiles and normalizes short
syntax to the long form that ``docker compose config`` prints. ``compose.model`` turns the tree
into pydantic models and uses ``source_map.locate(path)`` to put ``file:line:col`` on errors.

Tree conventions (the shape ``docker compose config`` prints; compose-go MarshalYAML):
- ports: list of {mode, host_ip?, target:int, published?:str, protocol, name?, app_protocol?}
- volumes: {type, source?, target, read_only?, bind:{propagation?, selinux?, create_host_path?},
  volume:{nocopy?}, tmpfs:{size?, mode?}}; relative bind sources resolved against the project
  directory. create_host_path is omitted when true (its default; compose-go prints it so).
- env_file items: {path, required?, format?}; ``required`` omitted when true (the default).
- environment: {KEY: str | None}; env_file contents merged in (environment wins);
  env_file kept as [{path, required?, format?}]. labels/annotations/sysctls/build.args/
  driver_opts: {str: str}.
- depends_on: {svc: {condition, required, restart?}}; networks: {net: {...} | None}.
- command/entrypoint: list[str] (None when unset/null); healthcheck.test: list[str].
- durations: Go duration strings as compose prints them ("1m30s", "10s", "500ms").
- byte sizes (memory, shm_size, tmpfs.size, mem_limit, ...): decimal strings of bytes ("52428800").
- deploy.resources.*.cpus: float. secret/config ``mode``: octal string ("0440").
- extra_hosts: ["host=ip", ...]. Numbers stay numbers unless compose prints a string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compose.stackfile.types import KeyPath, LoadedStack, LoadOptions, Mark, SourceMap

__all__ = ["KeyPath", "LoadOptions", "LoadedStack", "Mark", "SourceMap", "load_stack_tree"]
_TYPES = frozenset(__all__) - {"load_stack_tree"}


def __getattr__(name: str) -> Any:
    """The value types on first use: ``-p name`` commands import only ``discovery``."""
    if name not in _TYPES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from compose.stackfile import types

    value = getattr(types, name)
    globals()[name] = value
    return value


def load_stack_tree(options: LoadOptions) -> LoadedStack:
    """Load, interpolate, merge, filter by profile and normalize the stack files."""
    from compose.gcpause import paused_gc
    from compose.stackfile.loader import load

    with paused_gc():
        return load(options)
