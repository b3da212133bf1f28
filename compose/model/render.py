"""MODEL → the text ``docker compose config`` prints (YAML or JSON), and its plain-data form.

``stack_to_data`` dumps only what the stack sets (the loader already normalized it), with
durations and byte sizes in compose's printed forms. JSON follows compose-go's ``MarshalJSON``:
no nested ``x-*`` keys, ``command``/``entrypoint`` always present, ``ipam`` always present.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from compose.model.stack import Stack

Format = Literal["yaml", "json"]


def stack_to_data(stack: Stack, fmt: Format = "yaml") -> dict[str, Any]:
    data = stack.model_dump(mode="json", exclude_unset=True, context={"extensions": fmt == "yaml"})
    if "services" not in data:  # compose-go always prints it (no omitempty)
        data = {"name": data.pop("name"), "services": {}, **data}
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
    from compose.gcpause import paused_gc

    with paused_gc():
        return render(stack_to_data(stack, fmt), fmt)


def render_yaml(data: Any) -> str:
    """Block-style YAML the way Go's yaml.v3 prints it (see ``compose.model.yamlout``)."""
    from compose.model.yamlout import dump

    return dump(data)
