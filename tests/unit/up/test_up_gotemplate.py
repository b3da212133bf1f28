"""`ps --format` with docker's Go templates: fields, pipes, functions, `table` headers."""

from __future__ import annotations

import re

import pytest

from compose.cli import run
from compose.cli.gotemplate import render
from compose.state import ProjectRecord, ReplicaRecord, StateStore

ITEMS = [
    {"Name": "p-web-1", "Status": "Up 2 seconds", "Names": ["p-web-1"], "N": 3, "L": {"a": "1"}},
    {"Name": "p-db-1", "Status": "Exited (0)", "Names": ["p-db-1", "x"], "N": 0, "L": {}},
]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("{{.Name}}", "p-web-1\np-db-1"),
        ("{{.Name}}\\t{{.N}}", "p-web-1\t3\np-db-1\t0"),
        ("{{.Name | upper}}: {{lower .Status}}", "P-WEB-1: up 2 seconds\nP-DB-1: exited (0)"),
        ('{{join .Names ","}}|{{.Names | join "+"}}', "p-web-1|p-web-1\np-db-1,x|p-db-1+x"),
        ("{{json .L}} {{.L}} {{.Names}}", '{"a":"1"} map[a:1] [p-web-1]\n{} map[] [p-db-1 x]'),
        ("{{truncate .Name 3}}{{.Name | truncate 2}}", "p-wp-\np-dp-"),
        ('{{pad .Name 1 0}}{{.N | pad 1 1}}{{title "ab cd"}}', " p-web-1 3 Ab Cd\n p-db-1 0 Ab Cd"),
    ],
)
def test_templates(fmt: str, expected: str):
    assert render(fmt, ITEMS, {}) == expected


def test_table_prefix_adds_headers_and_aligns_like_tabwriter():
    out = render("table {{.Name}}\\t{{.Status}}", ITEMS, {"Name": "NAME"})
    assert out.splitlines() == [
        "NAME      STATUS",
        "p-web-1   Up 2 seconds",
        "p-db-1    Exited (0)",
    ]


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("{{.Nope}}", "can't evaluate field Nope"),
        ("{{range .Names}}x{{end}}", '"range" is not supported'),
        ('{{.Name "}}', "No closing quotation"),
    ],
)
def test_what_is_not_supported_is_an_error_not_a_wrong_output(fmt: str, message: str):
    from compose.errors import UserError

    with pytest.raises(UserError, match=message):
        render(fmt, ITEMS, {})


def test_ps_format_template(capsys):
    store = StateStore("p")
    store.save_replica(ReplicaRecord("p", "web", 1, status="running", pid=None, image="busybox"))
    assert (
        run(
            ["-p", "p", "ps", "-a", "--format", '{{.Name}} {{.Label "com.docker.compose.service"}}']
        )
        == 0
    )
    assert capsys.readouterr().out == "p-web-1 web\n"
    assert run(["-p", "p", "ps", "-a", "--format", "table {{.ID}}\\t{{.Image}}"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header == "CONTAINER ID   IMAGE"
    assert re.fullmatch(r"[0-9a-f]{12}   busybox", row)  # docker's short ID
    assert run(["-p", "p", "ps", "-a", "--format", "{{.Bad}}"]) == 1
    assert "can't evaluate field Bad" in capsys.readouterr().err


def test_ls_format_template(capsys):
    StateStore("p").save_project(ProjectRecord("p"))
    StateStore("p").save_replica(ReplicaRecord("p", "web", 1, status="exited"))
    assert run(["ls", "-a", "--format", "{{.Name}}={{.Status}}"]) == 0
    assert capsys.readouterr().out == "p=exited(1)\n"
