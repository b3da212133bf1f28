"""Git references as BuildKit parses them (cases of its dfgitutil git_ref_test.go), and the
masking of credentials in messages."""

from __future__ import annotations

import pytest

from compose.build.gitref import GitRef, GitRefError, is_git, parse, redact


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com/",
        "https://example.com/foo",
        "https://example.com/foo.git/",
        "https://example.com/foo.git.bar",
        "custom.xyz/moby/buildkit.git",
        "https://github.com/moby/buildkit",
        "http://github.com/docker/docker.git:#branch",
        "./.git",
        ".git",
        "../repo.git",
        "docker-image://busybox",
        "service:web",
        "/abs/dir",
        "web",
    ],
)
def test_not_git(value):
    assert parse(value) is None
    assert not is_git(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/foo.git", GitRef("https://example.com/foo.git")),
        ("https://example.com/foo.git#deadbeef", GitRef("https://example.com/foo.git", "deadbeef")),
        (
            "https://example.com/foo.git#release/1.2",
            GitRef("https://example.com/foo.git", "release/1.2"),
        ),
        ("git://example.com/foo", GitRef("git://example.com/foo")),
        ("github.com/moby/buildkit", GitRef("github.com/moby/buildkit")),
        ("github.com/moby/buildkit#master", GitRef("github.com/moby/buildkit", "master")),
        (
            "https://foo:bar@github.com/moby/buildkit.git",
            GitRef("https://foo:bar@github.com/moby/buildkit.git"),
        ),
        ("git@github.com:moby/buildkit", GitRef("git@github.com:moby/buildkit")),
        ("git@github.com:moby/buildkit.git", GitRef("git@github.com:moby/buildkit.git")),
        (
            "https://github.com/foo/bar.git#baz/qux:quux/quuz",
            GitRef("https://github.com/foo/bar.git", "baz/qux", "quux/quuz"),
        ),
        (
            "https://github.com/docker/docker.git#:myfolder",
            GitRef("https://github.com/docker/docker.git", "", "myfolder"),
        ),
        (
            "https://github.com/docker/docker.git?ref=v1.0.0&subdir=/subdir",
            GitRef("https://github.com/docker/docker.git", "v1.0.0", "/subdir"),
        ),
        (
            "https://github.com/moby/buildkit.git?subdir=/subdir#v1.0.0",
            GitRef("https://github.com/moby/buildkit.git", "v1.0.0", "/subdir"),
        ),
        (
            "https://github.com/moby/buildkit.git?tag=v1.0.0",
            GitRef("https://github.com/moby/buildkit.git", "refs/tags/v1.0.0"),
        ),
        (
            "github.com/moby/buildkit?tag=v1.0.0",
            GitRef("github.com/moby/buildkit", "refs/tags/v1.0.0"),
        ),
        (
            "https://github.com/moby/buildkit.git?branch=v1.0",
            GitRef("https://github.com/moby/buildkit.git", "refs/heads/v1.0"),
        ),
        (
            "git@github.com:moby/buildkit.git?subdir=/subdir#v1.0.0",
            GitRef("git@github.com:moby/buildkit.git", "v1.0.0", "/subdir"),
        ),
        (
            "ssh://git@github.com:22/docker/welcome-to-docker.git#main",
            GitRef("ssh://git@github.com:22/docker/welcome-to-docker.git", "main"),
        ),
        (
            "git://127.0.0.1:9418/repo.git#main:a/../b/./c/",
            GitRef("git://127.0.0.1:9418/repo.git", "main", "b/c"),
        ),
        (
            "https://host/r.git?keep-git-dir&submodules=false&checksum=abc123",
            GitRef("https://host/r.git", checksum="abc123", keep_git_dir=True, submodules=False),
        ),
        (
            "https://host/r.git?keep-git-dir=true&commit=abc&mtime=commit&fetch-by-commit",
            GitRef("https://host/r.git", checksum="abc", keep_git_dir=True, mtime="commit"),
        ),
    ],
)
def test_git_forms(value, expected):
    assert parse(value) == expected
    assert is_git(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://github.com/moby/buildkit.git?ref=v1.0.0#v1.2.3", "ref conflicts"),
        ("https://github.com/moby/buildkit.git?ref=v1.0.0&tag=v1.2.3", "ref conflicts"),
        ("https://github.com/moby/buildkit.git?tag=v1.0.0&branch=v1.0", "branch conflicts"),
        ("https://github.com/moby/buildkit.git?mtime=invalid", "invalid mtime value"),
        ("https://host/r.git?subdir=a#:b", "subdir conflicts"),
        ("https://host/r.git?ref=", "has no value"),
        ("https://host/r.git?ref=a&ref=b", "multiple values"),
        ("https://host/r.git?color=red", "unexpected query"),
        ("https://host/r.git?keep-git-dir=maybe", "invalid keep-git-dir value"),
    ],
)
def test_malformed_git_references(value, message):
    with pytest.raises(GitRefError, match=message):
        parse(value)
    assert is_git(value)  # a git reference still: its error is reported, not a path lookup


def test_names_and_fetch_urls():
    ref = parse("https://github.com/foo/bar.git#main:web")
    assert ref is not None and ref.short_name == "bar" and ref.clean_subdir == "web"
    legacy = parse("github.com/moby/buildkit")
    assert legacy is not None and legacy.fetch_url == "https://github.com/moby/buildkit"
    assert not is_git("github.com/moby/buildkit", context=False)  # ADD: a local path
    assert parse("git@bitbucket.org:atlassianlabs/atlassian-docker.git").short_name == (  # type: ignore[union-attr]
        "atlassian-docker"
    )
    assert parse("https://h/r.git#" + "a" * 40).is_commit  # type: ignore[union-attr]
    assert not parse("https://h/r.git#main").is_commit  # type: ignore[union-attr]


def test_credentials_are_masked():
    assert redact("https://user:s3cret@host/r.git") == "https://xxxxx:xxxxx@host/r.git"
    assert redact("fatal: https://tok3n@host/r.git: 403") == "fatal: https://xxxxx@host/r.git: 403"
    assert redact("git@host:org/r.git") == "git@host:org/r.git"
    assert redact("git://127.0.0.1:9/repo.git") == "git://127.0.0.1:9/repo.git"
