"""Review regressions: bad stack files give one located line (and a hint where it helps)."""

from __future__ import annotations

from pathlib import Path

import pytest
from stackfile_helpers import load

from compose.errors import UserError


def _error(tmp_path: Path, text: str | bytes) -> UserError:
    path = tmp_path / "compose.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(UserError) as info:
        load(tmp_path)
    assert "\n" not in str(info.value)
    return info.value


def test_review_extends_of_a_missing_service_names_the_key_not_a_dot(tmp_path: Path) -> None:
    err = _error(tmp_path, "services:\n  web:\n    image: x\n    extends: nope\n")
    assert str(err) == 'compose.yaml:4:5: services.web.extends: service "nope" not found'


def test_review_extends_of_a_missing_service_in_another_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("services:\n  a:\n    image: x\n")
    err = _error(tmp_path, "services:\n  web:\n    extends: {file: base.yaml, service: b}\n")
    assert 'services.web.extends: service "b" not found in ' in str(err)
    assert str(err).endswith("base.yaml")
