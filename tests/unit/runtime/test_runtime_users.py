"""user: resolution from the image's /etc/passwd and /etc/group (runc GetExecUser rules)."""

from __future__ import annotations

import pytest

from compose.runtime.users import ExecUser, UserLookupError, resolve_user

PASSWD = """root:x:0:0:root:/root:/bin/sh
# comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:App:/home/app:/bin/sh
"""
GROUP = """root:x:0:
wheel:x:10:root,app
staff:x:50:app
app:x:1000:
ops:x:2000:
"""


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", ExecUser(0, 0, (10,), "/root", "root")),
        ("app", ExecUser(1000, 1000, (10, 50), "/home/app", "app")),
        ("1000", ExecUser(1000, 1000, (10, 50), "/home/app", "app")),
        ("app:ops", ExecUser(1000, 2000, (), "/home/app", "app")),
        ("app:50", ExecUser(1000, 50, (), "/home/app", "app")),
        ("4242", ExecUser(4242, 0, (), "/", "")),
        ("4242:4343", ExecUser(4242, 4343, (), "/", "")),
    ],
)
def test_resolve(spec, expected):
    assert resolve_user(spec, PASSWD, GROUP) == expected


def test_group_add_appends():
    assert resolve_user("app", PASSWD, GROUP, ("ops", "3000")).groups == (10, 50, 2000, 3000)


def test_missing_files_still_allow_numeric_ids():
    assert resolve_user("33:33", "", "") == ExecUser(33, 33, (), "/", "")
    assert resolve_user("", "", "") == ExecUser()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bob", "unable to find user bob: no matching entries in passwd file"),
        ("app:nogroup", "unable to find group nogroup: no matching entries in group file"),
    ],
)
def test_unknown_names_fail(spec, message):
    with pytest.raises(UserLookupError, match=message):
        resolve_user(spec, PASSWD, GROUP)
