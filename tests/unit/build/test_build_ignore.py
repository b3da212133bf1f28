""".dockerignore reading and matching, Go's filepath.Match and Clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose.build import gopath
from compose.build.ignore import IgnoreRules, PatternError, PatternMatcher, read_ignore_file

SINGLE = [
    ("**", "file", True),
    ("**/", "file", True),
    ("**/file", "file", True),
    ("**/file", "dir/file", True),
    ("**/file", "dir/dir/file", True),
    ("**/file*", "dir/dir/file.txt", True),
    ("**/file*txt", "dir/dir/file.txt", True),
    ("**/**/*.txt", "dir/dir/file.txt", True),
    ("**/**/*.txt2", "dir/dir/file.txt", False),
    ("**/*.txt", "file.txt", True),
    ("**/**/*.txt", "file.txt", True),
    ("a**/*.txt", "a/file.txt", True),
    ("a**/*.txt", "a/dir/file.txt", True),
    ("a**/*.txt", "a/dir/dir/file.txt", True),
    ("a/*.txt", "a/dir/file.txt", False),
    ("a/*.txt", "a/file.txt", True),
    ("a/*.txt**", "a/file.txt", True),
    ("a[b-d]e", "ae", False),
    ("a[b-d]e", "ace", True),
    ("a[b-d]e", "aae", False),
    ("a[^b-d]e", "aze", True),
    (".*", ".foo", True),
    (".*", "foo", False),
    ("abc.def", "abcdef", False),
    ("abc.def", "abc.def", True),
    ("abc.def", "abcZdef", False),
    ("abc?def", "abcZdef", True),
    ("abc?def", "abcdef", False),
    ("**/foo/bar", "foo/bar", True),
    ("**/foo/bar", "dir/foo/bar", True),
    ("**/foo/bar", "dir/dir2/foo/bar", True),
    ("abc/**", "abc", False),
    ("abc/**", "abc/def", True),
    ("abc/**", "abc/def/ghi", True),
    ("**/.foo", ".foo", True),
    ("**/.foo", "bar.foo", False),
    ("a(b)c/def", "a(b)c/def", True),
    ("a(b)c/def", "a(b)c/xyz", False),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    ("node_modules", "node_modules/a/b.js", True),  # a parent directory matches
    ("*.md", "docs/x.md", False),  # * stays in one path element
    ("docs/*.md", "docs/sub/x.md", False),
    ("/foo/bar/", "foo/bar/x", True),  # leading and trailing / cleaned away
    ("./foo", "foo", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), SINGLE)
def test_single_pattern(pattern: str, path: str, expected: bool) -> None:
    patterns, _ = read_ignore_file(pattern)
    assert PatternMatcher.from_lines(patterns).matches(path) is expected


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        (["docs", "!docs/README.md"], "docs/README.md", False),
        (["docs", "!docs/README.md"], "docs/other.md", True),
        (["*.go", "!main.go"], "main.go", False),
        (["*.go", "!main.go", "main.go"], "main.go", True),  # the last match wins
        (["**", "!keep/**"], "keep/a/b", False),
        (["**", "!keep"], "keep/a", False),
        (["ignore_me/", "!**test"], "ignore_me/test", False),
    ],
)
def test_pattern_lists(patterns: list[str], path: str, expected: bool) -> None:
    lines, _ = read_ignore_file("\n".join(patterns))
    assert PatternMatcher.from_lines(lines).matches(path) is expected


def test_reading_rules() -> None:
    text = "\ufeff# comment\n  # not a comment\n\n!  keep \n/abs/\n./dot\nsp ace \n"
    assert read_ignore_file(text) == (
        ["# not a comment", "!keep", "abs", "dot", "sp ace"],
        [2, 4, 5, 6, 7],
    )


@pytest.mark.parametrize("bad", ["[", "a[b-c", "a\\", "!"])
def test_bad_patterns_are_errors(bad: str) -> None:
    with pytest.raises(PatternError):
        PatternMatcher.from_lines([bad])


def test_the_dockerfile_ignore_file_replaces_the_context_one(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("a\n")
    df = tmp_path / "docker" / "web.Dockerfile"
    df.parent.mkdir()
    df.write_text("FROM scratch\n")
    assert IgnoreRules.for_context(tmp_path, df).excluded("a")
    (tmp_path / "docker" / "web.Dockerfile.dockerignore").write_text("# only b\nb\n")
    rules = IgnoreRules.for_context(tmp_path, df)
    assert not rules.excluded("a")
    assert rules.excluded("b/c")
    assert rules.explain("b/c") == "web.Dockerfile.dockerignore:2: b"


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("abc", "abc", True),
        ("*", "abc", True),
        ("*c", "abc", True),
        ("a*", "a", True),
        ("a*", "ab/c", False),
        ("a*/b", "abc/b", True),
        ("a*/b", "a/c/b", False),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
        ("a*b?c*x", "abxbbxdbxebxczzx", True),
        ("a*b?c*x", "abxbbxdbxebxczzy", False),
        ("ab[c]", "abc", True),
        ("ab[b-d]", "abc", True),
        ("ab[e-g]", "abc", False),
        ("ab[^c]", "abc", False),
        ("ab[^b-d]", "abc", False),
        ("ab[^e-g]", "abc", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "ab", False),
        ("a?b", "a☺b", True),
        ("a[^a]b", "a☺b", True),
        ("a???b", "a☺b", False),
        ("a?b", "a/b", False),
        ("a*b", "a/b", False),
        ("[\\]a]", "]", True),
        ("[\\-]", "-", True),
        ("[x\\-]", "z", False),
        ("*x", "xxx", True),
    ],
)
def test_go_filepath_match(pattern: str, name: str, expected: bool) -> None:
    assert gopath.match(pattern, name) is expected


@pytest.mark.parametrize("pattern", ["[]a]", "[-]", "[x-]", "\\", "[a-b-c]", "[", "[^", "a["])
def test_go_filepath_match_errors(pattern: str) -> None:
    with pytest.raises(gopath.BadPattern):
        gopath.match(pattern, "a")


@pytest.mark.parametrize(
    ("path", "clean"),
    [("", "."), ("a/b/../c", "a/c"), ("/../a", "/a"), ("../a/..", ".."), ("//a//b/", "/a/b")],
)
def test_go_clean(path: str, clean: str) -> None:
    assert gopath.clean(path) == clean
