"""schemas/stack.schema.json is generated from the model and must not go stale."""

from __future__ import annotations

import json
import subprocess
import sys

from compose.model.schema import SCHEMA_PATH, render_schema


def test_committed_schema_is_fresh() -> None:
    assert SCHEMA_PATH.read_text() == render_schema(), (
        "schemas/stack.schema.json is stale: run `pycompose schema -o schemas/stack.schema.json`"
    )


def test_schema_allows_extensions_and_forbids_unknown_keys() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    service = schema["$defs"]["Service"]
    assert service["additionalProperties"] is False
    assert "^x-" in service["patternProperties"]
    assert "environment" in service["properties"] and "__name__" not in service["properties"]
    assert "__working_dir__" not in schema["properties"]


def test_schema_command_prints_it() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "compose", "schema"], capture_output=True, text=True, check=True
    ).stdout
    assert out == SCHEMA_PATH.read_text()
