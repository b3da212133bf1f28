"""``develop.watch`` rules, and which of them a changed file triggers (pure: no I/O beyond
reading ``.dockerignore``).

One ``Rule`` per watch item (the loader split multi-path items and made paths absolute):
``action`` sync | sync+restart | sync+exec | rebuild | restart, ``path`` on the host,
``target`` in the container (sync actions), ``ignore``/``include`` patterns (.dockerignore
syntax, relative to ``path``), ``initial_sync``, ``exec`` (sync+exec).

A file is ignored, as docker compose ignores it, when a rule's ``ignore`` matches it, when the
service's build context ``.dockerignore`` excludes it (for a path inside that context), or when
it is an editor's temporary file or inside ``.git``; with ``include``, only matching files count.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compose.errors import UserError

if TYPE_CHECKING:
    from compose.build.ignore import PatternMatcher
    from compose.model import Stack

ACTIONS = ("sync", "sync+restart", "sync+exec", "rebuild", "restart")
SYNCS = ("sync", "sync+restart", "sync+exec")
# editors' temporary and backup files, and VCS metadata (docker compose's built-in ignores)
EPHEMERAL = ("**/.git", "**/*.swp", "**/*.swx", "**/*~", "**/4913", "**/.#*", "**/#*#",
             "**/*___jb_tmp___", "**/*___jb_old___", "**/.DS_Store")  # fmt: skip


@dataclass(frozen=True)
class Exec:
    argv: tuple[str, ...]
    user: str | None = None
    workdir: str | None = None
    env: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    service: str
    action: str
    path: Path  # absolute, on the host
    target: str | None = None  # in the container (sync actions)
    ignore: PatternMatcher | None = None  # relative to ``path``
    include: PatternMatcher | None = None
    initial_sync: bool = False
    exec: Exec | None = None
    context: Path | None = None  # the service's build context (its .dockerignore applies)
    context_ignore: PatternMatcher | None = field(default=None, compare=False)

    def covers(self, file: Path) -> bool:
        """``file`` is this rule's path or inside it, and no ignore excludes it."""
        rel = _relative(file, self.path)
        if rel is None:
            return False
        posix = rel.replace(os.sep, "/") if rel else ""
        name_rel = posix or file.name  # a rule on one file matches that file's name
        if _matches(_ephemeral(), name_rel):
            return False
        if self.ignore is not None and posix and _matches(self.ignore, posix):
            return False
        if self.include is not None and not _matches(self.include, name_rel):
            return False
        return not self._context_excludes(file)

    def container_path(self, file: Path) -> str:
        """Where ``file`` goes in the container (sync actions)."""
        assert self.target is not None
        rel = _relative(file, self.path) or ""
        return posixpath.join(self.target, rel.replace(os.sep, "/")) if rel else self.target

    def _context_excludes(self, file: Path) -> bool:
        if self.context is None or self.context_ignore is None:
            return False
        rel = _relative(file, self.context)
        return bool(rel) and _matches(self.context_ignore, (rel or "").replace(os.sep, "/"))


def rules_of(stack: Stack, services: Iterable[str] = ()) -> list[Rule]:
    """The watch rules of ``services`` (all when empty); an error when none has any, as
    docker compose says it, or when a rule cannot work (rebuild without build:, a sync
    without target)."""
    chosen = list(services) or list(stack.services)
    rules = [rule for name in chosen for rule in _service_rules(stack, name)]
    if not rules:
        raise UserError(
            "none of the selected services is configured for watch, "
            "consider setting a 'develop' section",
        )
    return rules


def _service_rules(stack: Stack, name: str) -> list[Rule]:
    svc = stack.services[name]
    items = (svc.develop or {}).get("watch") or []
    context, context_ignore = _context(svc)
    rules = []
    for index, item in enumerate(items):
        where = f'service "{name}": develop.watch[{index}]'
        action = item.get("action")
        if action not in ACTIONS:
            raise UserError(f"{where}: action {action!r} is not one of {', '.join(ACTIONS)}")
        if action in SYNCS and not item.get("target"):
            raise UserError(f"{where}: {action} needs a target (the path in the container)")
        if action == "rebuild" and svc.build is None:
            raise UserError(
                f'can\'t watch service "{name}" with action rebuild without a build context',
                hint="add a build: section, or use sync/restart",
            )
        rules.append(
            Rule(
                service=name,
                action=action,
                path=Path(item["path"]),
                target=item.get("target"),
                ignore=_matcher(item.get("ignore"), where),
                include=_matcher(item.get("include"), where),
                initial_sync=bool(item.get("initial_sync")),
                exec=_exec(item.get("exec")) if action == "sync+exec" else None,
                context=context,
                context_ignore=context_ignore,
            )
        )
    return rules


def _context(svc: Any) -> tuple[Path | None, PatternMatcher | None]:
    build = svc.build
    if build is None or not build.context or "://" in build.context:
        return None, None
    from compose.build.ignore import IgnoreRules

    context = Path(build.context)
    dockerfile = context / build.dockerfile if build.dockerfile else None
    rules = IgnoreRules.for_context(context, dockerfile)
    return context, rules.matcher if rules.matcher.patterns else None


def _matcher(patterns: Any, where: str) -> PatternMatcher | None:
    if not patterns:
        return None
    from compose.build.ignore import PatternError, PatternMatcher

    try:
        return PatternMatcher.from_lines([str(p) for p in patterns])
    except PatternError as err:
        raise UserError(f"{where}: {err}") from None


def _exec(spec: Any) -> Exec:
    spec = spec or {}
    command = spec.get("command")
    argv = tuple(command) if isinstance(command, list) else ("/bin/sh", "-c", str(command or ""))
    env = spec.get("environment") or {}
    pairs = env.items() if isinstance(env, dict) else (e.partition("=")[::2] for e in env)
    return Exec(
        argv, spec.get("user"), spec.get("working_dir"), tuple(f"{k}={v}" for k, v in pairs)
    )


_EPHEMERAL: list[PatternMatcher] = []


def _ephemeral() -> PatternMatcher:
    if not _EPHEMERAL:
        from compose.build.ignore import PatternMatcher

        _EPHEMERAL.append(PatternMatcher.from_lines(list(EPHEMERAL)))
    return _EPHEMERAL[0]


def _matches(matcher: PatternMatcher, rel: str) -> bool:
    return matcher.matches(rel)


def _relative(file: Path, base: Path) -> str | None:
    """``file`` relative to ``base`` ("" for base itself); None when outside it."""
    try:
        rel = file.relative_to(base)
    except ValueError:
        return None
    return "" if str(rel) == "." else str(rel)
