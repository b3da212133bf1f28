"""Golden test: every compose-go dotenv fixture against EXPECTED.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compose.stackfile.dotenv import DotenvError, parse_dotenv

FIXTURES = Path("/work/shared/corpus/compose-go/dotenv/fixtures")
CASES = json.loads((FIXTURES / "EXPECTED.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}-{i}" for i, c in enumerate(CASES)])
def test_stackfile_dotenv_fixture(case: dict) -> None:
    text = (FIXTURES / case["file"]).read_text(encoding="utf-8")
    os_env = case["os_env"]
    if "error_contains" in case:
        with pytest.raises(DotenvError, match=case["error_contains"]):
            parse_dotenv(text, os_env.get)
        return
    got = parse_dotenv(text, os_env.get)
    if "load-into-process-env" in case.get("mode", ""):
        got = {**got, **os_env}  # loading into the process env never overrides existing vars
    if "expected" in case:
        assert got == case["expected"]
    else:
        assert {k: got.get(k) for k in case["expected_subset"]} == case["expected_subset"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('A="a\\tb\\\\c\\"d"', {"A": 'a\tb\\c"d'}),
        ('A="x\\$HOME"', {"A": "x$HOME"}),
        ("A='$HOME'", {"A": "$HOME"}),
        ("A=$$B", {"A": "$B"}),
        ("A: yaml style", {"A": "yaml style"}),
        ("A=x#notcomment", {"A": "x#notcomment"}),
        ('A="q" # c\nB=2', {"A": "q", "B": "2"}),
        ("export   A=1", {"A": "1"}),
        ("A=${B:-dflt}", {"A": "dflt"}),
        ("A=1\nB=${A}x", {"A": "1", "B": "1x"}),
        ('A="\\0101"', {"A": "A"}),
    ],
)
def test_stackfile_dotenv_syntax(text: str, expected: dict) -> None:
    assert parse_dotenv(text) == expected


@pytest.mark.parametrize("text", ['A="unterminated', "A B=1\n", "A!=1", "A=${B:?need B}"])
def test_stackfile_dotenv_errors_name_line(text: str) -> None:
    with pytest.raises(DotenvError, match=r"^line \d+: "):
        parse_dotenv(text)
