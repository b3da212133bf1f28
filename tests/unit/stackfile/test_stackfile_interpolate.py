"""Interpolation: compose-go template semantics, table-driven."""

from __future__ import annotations

import pytest

from compose.errors import InterpolationError
from compose.stackfile.interpolate import TemplateError, interpolate_tree, substitute
from compose.stackfile.types import Mark, SourceMap

ENV = {"SET": "value", "EMPTY": "", "NUM": "8080", "lower": "low"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("plain", "plain"),
        ("$SET", "value"),
        ("${SET}", "value"),
        ("pre-${SET}-post", "pre-value-post"),
        ("$SET$SET", "valuevalue"),
        ("$lower", "low"),
        ("${UNSET}", ""),
        ("$UNSET", ""),
        ("${UNSET:-dflt}", "dflt"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${EMPTY-dflt}", ""),
        ("${UNSET-dflt}", "dflt"),
        ("${SET:-dflt}", "value"),
        ("${SET:+repl}", "repl"),
        ("${EMPTY:+repl}", ""),
        ("${EMPTY+repl}", "repl"),
        ("${UNSET+repl}", ""),
        ("${SET?err}", "value"),
        ("${EMPTY?err}", ""),
        ("${UNSET:-${SET}}", "value"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("${UNSET:-a ${SET} b}", "a value b"),
        ("${UNSET:-x}y${SET}", "xyvalue"),
        ("$$", "$"),
        ("$$SET", "$SET"),
        ("$${SET}", "${SET}"),
        ("echo $(date)", "echo $(date)"),
        ("cost: 5$", "cost: 5$"),
        ("$1", "$1"),
        ("${NUM}:80", "8080:80"),
        ("${UNSET:-with:colon}", "with:colon"),
        ("${UNSET:-}", ""),
    ],
)
def test_stackfile_interpolate_table(template: str, expected: str) -> None:
    assert substitute(template, ENV.get) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("${UNSET:?need it}", 'required variable "UNSET" is missing a value: need it'),
        ("${EMPTY:?empty}", 'required variable "EMPTY" is missing a value: empty'),
        ("${UNSET?gone}", 'required variable "UNSET" is missing a value: gone'),
        ("${", "invalid interpolation format"),
        ("${SET", "invalid interpolation format"),
        ("${}", "invalid interpolation format"),
        ("${1A}", "invalid interpolation format"),
        ("${SET/foo/bar}", "invalid interpolation format"),
        ("${SET:x}", "invalid interpolation format"),
    ],
)
def test_stackfile_interpolate_errors(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("?", r"\?")):
        substitute(template, ENV.get)


def test_stackfile_interpolate_unset_warns_once() -> None:
    warnings: list[str] = []
    tree = {"a": "$X", "b": ["${X}", {"c": "$Y"}], "d": 3}
    out = interpolate_tree(tree, {}.get, SourceMap(), warnings)
    assert out == {"a": "", "b": ["", {"c": ""}], "d": 3}
    assert warnings == [
        'The "X" variable is not set. Defaulting to a blank string.',
        'The "Y" variable is not set. Defaulting to a blank string.',
    ]


def test_stackfile_interpolate_keys_untouched() -> None:
    out = interpolate_tree({"$KEY": "$SET"}, ENV.get, SourceMap(), [])
    assert out == {"$KEY": "value"}


def test_stackfile_interpolate_error_has_location_and_path() -> None:
    marks = SourceMap({("services", "web", "image"): Mark("compose.yaml", 3, 5)})
    tree = {"services": {"web": {"image": "${TAG:?set TAG}"}}}
    with pytest.raises(InterpolationError) as info:
        interpolate_tree(tree, {}.get, marks, [])
    assert str(info.value) == (
        'compose.yaml:3:5: services.web.image: required variable "TAG" is missing a value: set TAG'
    )
