"""libyaml's C composer gives the same tree, marks and errors as ruamel's pure one.

``parse_yaml`` takes the C composer (``ruamel.yaml.clib``) when it is installed and hands every
text where the two could disagree to the pure one; these tests parse the same text both ways.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from compose.errors import StackSyntaxError
from compose.stackfile import yamlio

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(
    yamlio._c_composer() is None, reason="ruamel.yaml.clib (the C composer) is not installed"
)


@contextlib.contextmanager
def _pure_only() -> Iterator[None]:
    saved = list(yamlio._C_COMPOSER)
    yamlio._C_COMPOSER[:] = [None]
    try:
        yield
    finally:
        yamlio._C_COMPOSER[:] = saved


def _outcome(text: str) -> Any:
    try:
        parsed = yamlio.parse_yaml(text, "f.yml")
    except StackSyntaxError as exc:
        return ("error", str(exc), exc.hint)
    marks = sorted(parsed.source_map.items(), key=repr)
    return repr((parsed.tree, marks, parsed.resets, parsed.overrides, parsed.positional))


def both_ways(text: str) -> tuple[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ruamel warns about reused anchors
        fast = _outcome(text)
        with _pure_only():
            pure = _outcome(text)
    return fast, pure


def _corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def test_yaml_fast_agrees_with_pure_on_the_corpus() -> None:
    files = _corpus_files()
    if not files:
        pytest.skip("no ../shared/corpus")
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        fast, pure = both_ways(text)
        assert fast == pure, path


EDGES = [
    "a: !!str 08\n",
    "k0: a\n...\n...\n",
    "a: &x !!str 5\nb: *x\n",  # a tag after an anchor still counts (docker prints "5")
    "a: ! 5\nb: !\nc: !!str\nd: !!str &q\n",
    "\ufeffa: 1\n",
    "a: 1\x85b: 2\n",  # NEL: a line break in YAML 1.1 (libyaml) only
    "a:\n\t- 1\n",
    "a: 'x\ty'\n",
    "%YAML 1.2\n---\na: 1\n",
    "---\n...\n---\na: 1\n",
    "",
    "---\n",
    "# only a comment\n",
    "- a\n- b\n",
    "a: &a {x: 1}\nb:\n  <<: *a\n  y: 2\n",
    "a:\n  b: 1\n  <<: [{c: 1}, {c: 2, d: 3}]\n",
    "<<: \n",
    "a: &a\n  b: *a\n",
    "a: 1\na: 2\n",
    "? [1]\n: 2\n",
    "a: |2\n   x\n",
    "a: |\n  \n   x\n",
    "a: |#c\n  x\n",
    'a: "\\/\\x41\\u263A\\N\\_"\n',
    "a: b: c\n",
    "a: [1, 2\n",
    "a: !reset\nb: !override {c: 1}\nc: !merge [1]\n",
    "a: !<tag:yaml.org,2002:str> 12\n",
    "%TAG !e! tag:e.com,2000:\n---\na: !e!x 1\n",
    "ports:\n  -\n  - 80\n",
    "a: 1\r\nb: 2\r\n",
    "日本: 'ü'\nb: ü\n",
    "a: *undefined\n",
    "x: " + "[" * 150 + "]" * 150 + "\n",
    "x: " + "[" * 200_000 + "]" * 200_000 + "\n",  # C recursion: never reached
    "- " * 50_000 + "x\n",
]


@pytest.mark.parametrize("text", EDGES)
def test_yaml_fast_agrees_with_pure_on_edge_cases(text: str) -> None:
    fast, pure = both_ways(text)
    assert fast == pure


def test_yaml_a_tag_after_an_anchor_is_explicit() -> None:
    with _pure_only():
        assert yamlio.parse_yaml("a: &x !!str 5\nb: *x\n", "f").tree == {"a": "5", "b": "5"}


ATOMS = [
    *("a", "b", "1", "08", "true", "~", "null", "é", "x y", "'x'", '"y"'),
    *(":", ": ", " ", "  ", "\n", "\n  ", "\n    ", "\r\n", "\t", "\x85"),
    *("- ", "-", "? ", "{", "}", "[", "]", ",", "#", " #", "%", "\\", "@", "`"),
    *("!", "!!str ", "!reset ", "&x ", "*x", "<<: ", "---\n", "...\n"),
    *("|", ">", "|-", ">+", "|2", "|-\n  ", ">+\n  "),
]
DOCUMENT = st.lists(
    st.lists(st.sampled_from(ATOMS), min_size=1, max_size=10).map("".join),
    min_size=1,
    max_size=4,
).map(lambda values: "".join(f"k{i}:{v}\n" for i, v in enumerate(values)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT)
def test_yaml_fast_agrees_with_pure_on_generated_documents(text: str) -> None:
    fast, pure = both_ways(text)
    assert fast == pure
