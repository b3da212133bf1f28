"""MODEL → the text ``docker compose config`` prints (YAML or JSON), and its plain-data form.

``stack_to_data`` dumps only what the stack sets (the loader already normalized it), with
durations and byte sizes in compose's printed forms. JSON follows compose-go's ``MarshalJSON``:
no nested ``x-*`` keys, ``command``/``entrypoint`` always present, ``ipam`` always present.
"""

from __future__ import annotations

import functools
import io
import json
from typing import Any, Literal

from compose.model.stack import Stack

Format = Literal["yaml", "json"]


def stack_to_data(stack: Stack, fmt: Format = "yaml") -> dict[str, Any]:
    data = stack.model_dump(mode="json", exclude_unset=True, context={"extensions": fmt == "yaml"})
    if fmt == "json":
        data.update(sorted(stack.extensions.items()))
        _json_quirks(data)
    return data


def _json_quirks(data: dict[str, Any]) -> None:
    for service in data.get("services", {}).values():
        service.setdefault("command", None)
        service.setdefault("entrypoint", None)
    for network in data.get("networks", {}).values():
        network.setdefault("ipam", {})


def render(data: Any, fmt: Format = "yaml") -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return render_yaml(data)


def render_stack(stack: Stack, fmt: Format = "yaml") -> str:
    return render(stack_to_data(stack, fmt), fmt)


def render_yaml(data: Any) -> str:
    """Block-style YAML the way Go's yaml.v3 prints it (2-space indent, literal multi-line)."""
    stream = io.StringIO()
    _yaml().dump(data, stream)
    return stream.getvalue()


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 1 << 16
    yaml.representer.add_representer(str, _represent_str)
    yaml.representer.add_representer(type(None), _represent_none)
    return yaml


def _represent_str(representer: Any, value: str) -> Any:
    tag = "tag:yaml.org,2002:str"
    if "\n" in value:
        return representer.represent_scalar(tag, value, style="|")
    if _needs_quotes(value):
        return representer.represent_scalar(tag, value, style='"')
    return representer.represent_scalar(tag, value)


def _needs_quotes(value: str) -> bool:
    """Quote what a YAML 1.1 reader would not read back as a string (as Go's yaml.v3 does)."""
    from ruamel.yaml.nodes import ScalarNode

    resolved = _resolver().resolve(ScalarNode, value, (True, False))
    return resolved != "tag:yaml.org,2002:str" or value == ""


@functools.cache
def _resolver() -> Any:
    from ruamel.yaml.resolver import VersionedResolver

    return VersionedResolver(version=(1, 1))


def _represent_none(representer: Any, _value: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")
