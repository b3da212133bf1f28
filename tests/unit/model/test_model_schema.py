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


def test_config_output_validates_against_the_schema() -> None:
    import pytest

    jsonschema = pytest.importorskip("jsonschema")
    from pathlib import Path

    from compose.model import load_stack
    from compose.model.render import stack_to_data
    from compose.stackfile import LoadOptions

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    corpus = Path(__file__).resolve().parents[3].parent / "shared/corpus/awesome-compose"
    for path in sorted(corpus.glob("*/compose.y*ml")):
        stack = load_stack(LoadOptions(files=(str(path),), cwd=path.parent, environ={}))
        errors = [e.message for e in validator.iter_errors(stack_to_data(stack))]
        assert not errors, (path, errors[:3])
