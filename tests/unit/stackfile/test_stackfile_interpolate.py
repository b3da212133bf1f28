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


def test_stackfile_interpolated_values_are_typed_like_compose_go() -> None:
    env = {"N": "3", "RO": "yes", "P": "8080", "CPU": "0.5", "EXT": "true", "SOFT": "10"}
    tree = {
        "services": {
            "web": {
                "deploy": {"replicas": "${N}"},
                "read_only": "$RO",
                "ports": [{"target": "${P}"}],
                "cpus": "${CPU}",
                "ulimits": {"nofile": {"soft": "${SOFT}"}, "nproc": "${N}"},
                "tty": "yes",  # literal, not interpolated: left for validation
                "image": "${N}",  # not a typed field
            }
        },
        "networks": {"front": {"external": "${EXT}"}},
    }
    out = interpolate_tree(tree, env.get, SourceMap(), [])
    web = out["services"]["web"]
    assert web["deploy"]["replicas"] == 3 and web["read_only"] is True
    assert web["ports"][0]["target"] == 8080 and web["cpus"] == 0.5
    assert web["ulimits"] == {"nofile": {"soft": 10}, "nproc": 3}
    assert web["tty"] == "yes" and web["image"] == "3"
    assert out["networks"]["front"]["external"] is True


def test_stackfile_interpolated_cast_error_is_located() -> None:
    marks = SourceMap({("services", "web", "privileged"): Mark("c.yml", 4, 5)})
    tree = {"services": {"web": {"privileged": "${X}"}}}
    pattern = r"^c.yml:4:5: services.web.privileged: expected a boolean"
    with pytest.raises(InterpolationError, match=pattern):
        interpolate_tree(tree, {"X": "maybe"}.get, marks, [])
