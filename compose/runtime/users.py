"""Resolve ``user:`` the way runc does (libcontainer/user ``GetExecUser``), from passwd/group text.

Rules:
- default uid 0, gid 0, home ``/``;
- ``name`` must exist in /etc/passwd; a numeric uid need not (then gid 0, home ``/``);
- with only a user given, gid is the passwd entry's gid and the supplementary groups are every
  /etc/group entry listing the user's name ("implicit form"); with ``user:group`` the group is
  looked up (name or number) and no supplementary groups are added;
- ``group_add`` entries (names or numbers) are appended.
"""

from __future__ import annotations

from msgspec import Struct


class UserLookupError(LookupError):
    pass


class ExecUser(Struct, frozen=True):
    uid: int = 0
    gid: int = 0
    groups: tuple[int, ...] = ()
    home: str = "/"
    name: str = ""


def _rows(text: str, width: int) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(":")
        rows.append(parts + [""] * (width - len(parts)))
    return rows


def _find_user(arg: str, passwd: str) -> ExecUser | None:
    for name, _pw, uid, gid, _gecos, home, *_ in _rows(passwd, 7):
        if arg in (name, uid) and uid.isdigit():
            return ExecUser(int(uid), int(gid or 0), (), home or "/", name)
    return None


def _find_group(arg: str, group: str) -> int | None:
    for name, _pw, gid, *_ in _rows(group, 4):
        if arg in (name, gid) and gid.isdigit():
            return int(gid)
    return int(arg) if arg.isdigit() else None


def _member_groups(user: str, group: str) -> tuple[int, ...]:
    found = []
    for _name, _pw, gid, members in _rows(group, 4):
        if user and user in members.split(",") and gid.isdigit():
            found.append(int(gid))
    return tuple(found)


def _base_user(user_arg: str, passwd: str) -> ExecUser:
    if not user_arg:
        return _find_user("0", passwd) or ExecUser()
    found = _find_user(user_arg, passwd)
    if found:
        return found
    if user_arg.isdigit():
        return ExecUser(uid=int(user_arg))
    raise UserLookupError(f"unable to find user {user_arg}: no matching entries in passwd file")


def resolve_user(spec: str, passwd: str, group: str, group_add: tuple[str, ...] = ()) -> ExecUser:
    """``spec`` is ``user[:group]``; returns uid, gid, supplementary groups and home."""
    user_arg, _, group_arg = spec.partition(":")
    user = _base_user(user_arg, passwd)
    gid, groups = user.gid, _member_groups(user.name, group)
    if group_arg:
        gid, groups = _require_group(group_arg, group), ()
    extra = tuple(_require_group(name, group) for name in group_add)
    all_groups = tuple(dict.fromkeys(groups + extra))
    return ExecUser(user.uid, gid, all_groups, user.home, user.name)


def _require_group(arg: str, group: str) -> int:
    found = _find_group(arg, group)
    if found is None:
        raise UserLookupError(f"unable to find group {arg}: no matching entries in group file")
    return found
