"""BuildKit's own parser and lexer data (``shared/corpus/buildkit-dockerfile``) as unit tests:
the parse tree of every ``testfiles`` case equals its ``result`` dump, the ``testfiles-negative``
cases fail, and every line of ``shell-envVarTest`` / ``shell-wordsTest`` gives its expected
result."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose.build.lexer import Lexer, LexError
from compose.build.parser import ParseError, parse
from tests.conftest import CORPUS

DATA = CORPUS / "buildkit-dockerfile"
LEX_ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


def _cases(folder: str) -> list[Path]:
    root = DATA / folder
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir())


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogateescape")


@pytest.mark.parametrize("case", _cases("testfiles"), ids=lambda p: p.name)
def test_parse_tree_equals_buildkit_dump(case: Path) -> None:
    parsed = parse(_read(case / "Dockerfile"))
    assert parsed.dump() == _read(case / "result")


@pytest.mark.parametrize("case", _cases("testfiles-negative"), ids=lambda p: p.name)
def test_negative_cases_fail(case: Path) -> None:
    from compose.build.instructions import parse_stages

    with pytest.raises(ParseError):
        parse_stages(parse(_read(case / "Dockerfile")))


def _env_var_lines() -> list[tuple[int, str, str]]:
    path = DATA / "shell-envVarTest"
    if not path.is_file():
        return []
    out = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("#") or not line.strip():
            continue
        mode, source, expected = (part.strip() for part in line.strip().split("|"))
        if mode in ("A", "U"):
            out.append((number, source, expected))
    return out


@pytest.mark.parametrize(("number", "source", "expected"), _env_var_lines())
def test_env_var_table(number: int, source: str, expected: str) -> None:
    lex = Lexer("\\")
    if expected == "error":
        with pytest.raises(LexError):
            lex.word(source, LEX_ENV)
    else:
        assert lex.word(source, LEX_ENV) == expected, f"envVarTest line {number}"


def _words_lines() -> list[tuple[int, str, list[str], dict[str, str]]]:
    path = DATA / "shell-wordsTest"
    if not path.is_file():
        return []
    env: dict[str, str] = {}
    out = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("#"):
            continue
        if line.startswith("ENV "):
            key, _, value = line[3:].lstrip(" ").partition("=")
            env[key] = value
            continue
        test, expected = line.split("|")
        out.append((number, test.strip(), expected.lstrip(" ").split(","), dict(env)))
    return out


@pytest.mark.parametrize(("number", "source", "expected", "env"), _words_lines())
def test_words_table(number: int, source: str, expected: list[str], env: dict[str, str]) -> None:
    try:
        words = Lexer("\\").words(source, env)
    except LexError:
        words = ["error"]
    assert words == expected, f"wordsTest line {number}"


def test_the_corpus_is_there() -> None:
    assert len(_cases("testfiles")) >= 30
    assert len(_env_var_lines()) > 200
    assert len(_words_lines()) > 20
