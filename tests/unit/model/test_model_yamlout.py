"""The config YAML writer: Go yaml.v3's layout, and whatever it writes reads back the same."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
from ruamel.yaml import YAML

from compose.model.yamlout import dump

TRICKY = ["yes", "no", "on", "Off", "~", "null", "", " lead", "trail ", "a: b", "a #b", "#c",
          "-", "- x", "-p", "3000", "0440", "1e3", "0x1F", "1:30", ".inf", "2024-01-02", "*.foo",
          "&a", "!t", "%x", "@x", "`x", "{a}", "[a]", "a,b", "'q'", '"q"', "x:", "<<", "=",
          "_", "-_", "+__",
          "tab\there", "multi\nline\n", "no newline\nat end", "ünï", "a\\b", "\x00"]  # fmt: skip


def _load(text: str) -> object:
    return YAML(typ="safe").load(text)


def test_layout_matches_go() -> None:
    data = {"services": {"web": {"command": ["-p", "3000"], "env": {}, "x": None,
                                 "ports": [{"target": 80, "published": "8080"}],
                                 "inline": "FROM alpine\nRUN true\n"}}}  # fmt: skip
    assert dump(data) == (
        'services:\n  web:\n    command:\n      - -p\n      - "3000"\n    env: {}\n'
        '    x: null\n    ports:\n      - target: 80\n        published: "8080"\n'
        "    inline: |\n      FROM alpine\n      RUN true\n"
    )


def test_tricky_strings_read_back() -> None:
    data = {"list": TRICKY, "map": {s: s for s in TRICKY if s}}
    assert _load(dump(data)) == data


plain = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
                  st.sampled_from(TRICKY))  # fmt: skip
trees = st.recursive(
    plain,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=3),
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(data=st.dictionaries(st.text(min_size=1, max_size=6), trees, min_size=1, max_size=4))
def test_random_data_reads_back(data: dict) -> None:
    assert _load(dump(data)) == data
