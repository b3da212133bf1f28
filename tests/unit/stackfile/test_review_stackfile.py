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


@pytest.mark.parametrize(
    ("text", "where", "says", "hint"),
    [
        ("services:\n\tweb:\n", "compose.yaml:2:1: ", "'\\t'", "spaces"),
        ("services:\n  web:\n    ports: [80:80\n", "compose.yaml:4:1: ", "line 3, column 12", None),
        ("services:\n  web:\n    image: x\n   bad: 1\n", "compose.yaml:4:4: ", "block", "indent"),
        ("services:\n  web:\n    command: echo: hi\n", "compose.yaml:3:18: ", "mapping", "quote"),
        ("services:\n  web:\n    image: x\x00\n", "compose.yaml:3:13: ", "U+0000", "control"),
    ],
)
def test_review_yaml_errors_are_one_located_line_with_a_hint(
    tmp_path: Path, text: str, where: str, says: str, hint: str | None
) -> None:
    err = _error(tmp_path, text)
    assert str(err).startswith(where) and says in str(err)
    assert (err.hint is None) if hint is None else (hint in (err.hint or ""))


def test_review_top_level_networks_list_is_not_silently_replaced(tmp_path: Path) -> None:
    stack = load(tmp_path, {"compose.yaml": "services: {web: {image: x}}\nnetworks: [a]\n"})
    assert stack.tree["networks"] == ["a"]  # the model rejects it: "networks: ... mapping"


def test_review_required_variable_without_a_message_has_no_dangling_colon(
    tmp_path: Path,
) -> None:
    err = _error(tmp_path, "services:\n  web:\n    image: ${IMG:?}\n")
    assert str(err) == (
        'compose.yaml:3:5: services.web.image: required variable "IMG" is missing a value'
    )


def test_review_a_directory_given_as_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "stack").mkdir()
    with pytest.raises(UserError, match="stack: is a directory, not a stack file") as info:
        load(tmp_path, files=("stack",))
    assert info.value.hint == "use -f stack/compose.yaml"


def test_review_unknown_key_in_extends_is_reported(tmp_path: Path) -> None:
    text = "services:\n  web:\n    extends: {fil: a.yml, service: b}\n  b: {image: y}\n"
    err = _error(tmp_path, text)
    assert str(err) == (
        'compose.yaml:3:5: services.web.extends.fil: unknown key (did you mean "file"?)'
    )


def test_review_binary_file_is_located_at_its_first_bad_byte(tmp_path: Path) -> None:
    err = _error(tmp_path, b"services:\n  web:\n    image: \xff\xfe\n")
    assert str(err) == "compose.yaml:3:12: not valid UTF-8 (byte 0xff)"
    assert "UTF-8" in (err.hint or "")


@pytest.mark.parametrize(
    ("entry", "says", "hint"),
    [
        ('ports: ["80:80:80"]', 'invalid port "80:80:80": invalid IP address: "80"', "8080:80"),
        ('volumes: ["ab:b:c:d"]', "too many colons", "./data:/data:ro"),
    ],
)
def test_review_bad_short_syntax_shows_the_form(
    tmp_path: Path, entry: str, says: str, hint: str
) -> None:
    err = _error(tmp_path, f"services:\n  web:\n    image: x\n    {entry}\n")
    assert str(err).startswith("compose.yaml:4:") and says in str(err)
    assert hint in (err.hint or "")
