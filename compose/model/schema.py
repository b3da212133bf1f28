"""The JSON Schema of the stack model, committed as ``schemas/stack.schema.json``.

It describes the normalized (long-form) stack that ``pycompose config`` prints; a unit test
fails when the committed file is stale (regenerate with ``pycompose schema -o``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "stack.schema.json"
SCHEMA_ID = "https://pycompose.invalid/schemas/stack.schema.json"


def stack_json_schema() -> dict[str, Any]:
    from compose.model.stack import Stack

    schema = Stack.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def render_schema() -> str:
    return json.dumps(stack_json_schema(), indent=2, ensure_ascii=False) + "\n"
