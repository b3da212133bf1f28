"""The load pipeline: options -> files -> environment -> parsed, merged, normalized tree.

Steps (each a small function): environment, files, working directory, parse, project name,
per file (interpolate, canonicalize, include), merge, extends, profiles, env files,
defaults, path resolution, normalization.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compose import limits
from compose.errors import InterpolationError, StackFileNotFound, StackSyntaxError, UserError
from compose.stackfile import discovery, environment, fs, include, normalize, profiles
from compose.stackfile.canonical import Canonicalizer
from compose.stackfile.extends import ExtendsResolver, LoadedFile
from compose.stackfile.interpolate import TemplateError, interpolate_tree, substitute
from compose.stackfile.legacy import check_not_legacy, drop_version
from compose.stackfile.merge import delete_paths, enforce_unicity, merge_values
from compose.stackfile.paths import read_utf8, resolve_tree_paths
from compose.stackfile.types import KeyPath, LoadedStack, LoadOptions, SourceMap
from compose.stackfile.yamlio import ParsedFile, parse_yaml


@dataclass
class _Run:
    """Mutable state of one load."""

    options: LoadOptions
    cwd: Path
    env: dict[str, str]
    home: str
    warnings: list[str] = field(default_factory=list)
    file_cache: dict[str, LoadedFile] = field(default_factory=dict)


def load(options: LoadOptions) -> LoadedStack:
    try:
        return _load(options)
    except RecursionError:
        first = options.files[0] if options.files else "compose file"
        name = display_name(first, Path(os.path.abspath(options.cwd)))
        raise StackSyntaxError(f"{name}:1:1: stack nested too deeply") from None


def _load(options: LoadOptions) -> LoadedStack:
    cwd = Path(os.path.abspath(options.cwd))
    environ = dict(options.environ)
    run = _Run(options, cwd, {}, environ.get("HOME") or fs.home())
    hint_dir = _hint_dir(options, cwd)
    dotenv, _ = environment.dotenv_values(options.env_files, cwd, hint_dir, environ)
    environ["PWD"] = str(cwd)  # docker compose sets PWD for interpolation
    run.env = environment.merged_environment(environ, dotenv)
    files = _stack_files(run, hint_dir)
    working_dir = _working_dir(options, cwd, files)
    if not options.env_files and working_dir != hint_dir:
        dotenv, _ = environment.dotenv_values((), cwd, working_dir, environ)
        run.env = environment.merged_environment(environ, dotenv)
    parsed = [_parse(run, f) for f in files]
    name = _project_name(run, parsed, working_dir)
    run.env["COMPOSE_PROJECT_NAME"] = name
    model = _load_model(run, parsed, str(working_dir), tuple(f for f in files if f != "-"))
    tree, marks = model.tree, model.marks
    tree["name"] = name
    disabled = _select_profiles(run, tree, marks)
    _finish(run, tree, marks, str(working_dir), name)
    profiles.check_dependencies(tree, disabled, marks)
    return LoadedStack(
        name=name,
        working_dir=working_dir,
        files=tuple(Path(f) if f != "-" else Path("-") for f in files),
        environment=dict(run.env),
        tree=_ordered(tree),
        source_map=marks,
        warnings=tuple(run.warnings),
        disabled_services=disabled,
    )


def _hint_dir(options: LoadOptions, cwd: Path) -> Path:
    if options.project_directory:
        return Path(os.path.abspath(cwd / options.project_directory))
    first = next((f for f in options.files if f != "-"), None)
    return Path(os.path.abspath(cwd / first)).parent if first else cwd


def _stack_files(run: _Run, hint_dir: Path) -> list[str]:
    """Absolute paths of the stack files ("-" for stdin), in merge order."""
    names = list(run.options.files) or discovery.files_from_env(run.env, run.cwd)
    if not names:
        start = hint_dir if run.options.project_directory else run.cwd
        return [str(p) for p in discovery.find_default_files(start, run.warnings)]
    out = []
    for name in names:
        if name == "-":
            out.append("-")
            continue
        path = Path(os.path.abspath(run.cwd / fs.expanduser(name)))
        if fs.is_dir(path):
            raise StackFileNotFound(
                f"{name}: is a directory, not a stack file", hint=f"use -f {name}/compose.yaml"
            )
        if not fs.is_file(path):
            raise StackFileNotFound(f"stack file not found: {name}")
        out.append(str(path))
    return out


def _working_dir(options: LoadOptions, cwd: Path, files: list[str]) -> Path:
    if options.project_directory:
        return Path(os.path.abspath(cwd / options.project_directory))
    first = next((f for f in files if f != "-"), None)
    return Path(first).parent if first else cwd


def display_name(path: str, cwd: Path) -> str:
    if path == "-":
        return "<stdin>"
    rel = os.path.relpath(path, cwd)
    return path if rel.startswith("..") else rel


def _read(run: _Run, path: str) -> str:
    if path == "-":
        most = limits.limit(limits.FILE_SIZE)
        text = run.options.stdin if run.options.stdin is not None else fs.read_stdin(most)
        limits.check_size(len(text), most, "<stdin>")
        return text
    try:
        return read_utf8(Path(path), display_name(path, run.cwd))
    except OSError as exc:
        raise StackFileNotFound(f"{display_name(path, run.cwd)}: {exc.strerror or exc}") from None


def _parse(run: _Run, path: str) -> ParsedFile:
    parsed = parse_yaml(_read(run, path), display_name(path, run.cwd))
    check_not_legacy(parsed)
    drop_version(parsed, run.warnings)
    return parsed


def _project_name(run: _Run, parsed: list[ParsedFile], working_dir: Path) -> str:
    top, where = None, ""
    for p in parsed:
        value = p.tree.get("name")
        if isinstance(value, str):
            where = f"{p.source_map.locate(('name',))}: "
            try:
                top = substitute(value, run.env.get) if run.options.interpolate else value
            except TemplateError as exc:
                raise InterpolationError(f"{where}name: {exc}") from None
    if top is not None and run.options.normalize:
        top = discovery.normalize_project_name(top) or None  # compose-go normalizes this one
    try:
        return discovery.pick_project_name(run.options.project_name, run.env, top, working_dir)
    except UserError as exc:
        if top is None or run.options.project_name or run.env.get("COMPOSE_PROJECT_NAME"):
            raise
        raise UserError(f"{where}{exc}", hint=exc.hint) from None


@dataclass
class _Model:
    tree: dict[str, Any]
    marks: SourceMap
    resets: set[KeyPath] = field(default_factory=set)
    overrides: set[KeyPath] = field(default_factory=set)
    positional: set[KeyPath] = field(default_factory=set)


def _load_model(
    run: _Run, parsed: list[ParsedFile], base_dir: str, chain: tuple[str, ...]
) -> _Model:
    """Interpolate, canonicalize, include and merge the files, then apply extends."""
    model = _Model({}, SourceMap())
    for p in parsed:
        tree = _prepare(run, p, base_dir, chain)
        model.tree = (
            merge_values(model.tree, tree, (), frozenset(p.overrides), frozenset(p.positional))
            if model.tree
            else tree
        )
        delete_paths(model.tree, p.resets)
        model.marks.update(p.source_map, override=True)
        model.resets |= p.resets
        model.overrides |= p.overrides
        model.positional |= p.positional
    main = LoadedFile(base_dir, model.tree, model.marks, base_dir, model.resets, model.overrides)
    main.positional = model.positional
    relative_to = None if run.options.resolve_paths else base_dir
    resolver = ExtendsResolver(
        lambda f: _load_extends_file(run, f), run.home, model.marks, relative_to
    )
    resolver.resolve_all(main)
    enforce_unicity(model.tree)
    return model


def _prepare(run: _Run, p: ParsedFile, base_dir: str, chain: tuple[str, ...]) -> dict[str, Any]:
    tree = p.tree
    if run.options.interpolate:
        tree = interpolate_tree(tree, run.env.get, p.source_map, run.warnings)
    tree = Canonicalizer(p.source_map, lenient=not run.options.interpolate).tree(tree)
    entries = tree.pop("include", None)
    if entries is None:
        return tree
    imported = _process_includes(run, entries, p, base_dir, chain)
    # docker compose v5: the including file's own definitions are merged over imported ones
    merged: dict[str, Any] = merge_values(
        imported, tree, (), frozenset(p.overrides), frozenset(p.positional)
    )
    return merged


def _process_includes(
    run: _Run, entries: object, p: ParsedFile, base_dir: str, chain: tuple[str, ...]
) -> dict[str, Any]:
    """The resources of every included application; two differing definitions conflict."""
    imported: dict[str, Any] = {}
    for i, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        where_mark = p.source_map.locate(("include", i))
        where = f"{where_mark}: " if where_mark else ""
        spec = include.parse_include_entry(entry, base_dir, run.home, where)
        for f in spec.files:
            include.check_cycle(f, chain, where)
            if not fs.is_file(f):
                raise UserError(f"{where}included file not found: {f}")
        sub = _load_included(run, spec, base_dir, chain)
        include.import_resources(imported, sub.tree, str(spec.files[0]), where)
        p.source_map.update(sub.marks)  # included resources keep their own file:line:col
    return imported


def _load_included(
    run: _Run, spec: include.IncludeSpec, base_dir: str, chain: tuple[str, ...]
) -> _Model:
    sub_run = _Run(
        run.options, run.cwd, include.include_environment(spec, run.env), run.home, run.warnings
    )
    parsed = [_parse(sub_run, str(f)) for f in spec.files]
    sub_chain = (*chain, *(str(f) for f in spec.files))
    model = _load_model(sub_run, parsed, str(spec.project_directory), sub_chain)
    model.tree.pop("name", None)
    normalize.apply_defaults(model.tree, sub_run.env)
    folder = str(spec.project_directory)
    if not run.options.resolve_paths:  # keep them relative, to the including project (compose-go)
        folder = os.path.relpath(folder, base_dir)
    resolve_tree_paths(model.tree, folder, run.home)
    # variables of the included project resolve in its own environment
    normalize.merge_env_files(model.tree, sub_run.env, model.marks, base_dir)  # paths: see above
    return model


def _load_extends_file(run: _Run, path: str) -> LoadedFile:
    if path not in run.file_cache:
        if not fs.is_file(path):
            raise UserError(f"extends: file not found: {display_name(path, run.cwd)}")
        p = _parse(run, path)
        tree = (
            interpolate_tree(p.tree, run.env.get, p.source_map, run.warnings)
            if run.options.interpolate
            else p.tree
        )
        tree = Canonicalizer(p.source_map, lenient=not run.options.interpolate).tree(tree)
        delete_paths(tree, p.resets)
        loaded = LoadedFile(path, tree, p.source_map, str(Path(path).parent), p.resets, p.overrides)
        loaded.positional = p.positional
        run.file_cache[path] = loaded
    return run.file_cache[path]


def _select_profiles(run: _Run, tree: dict[str, Any], marks: SourceMap) -> frozenset[str]:
    found = tree.get("services")
    services: dict[str, Any] = found if isinstance(found, dict) else {}
    active = profiles.active_profiles(run.options.profiles, run.env, services, run.options.services)
    return profiles.drop_disabled(tree, active)


def _finish(run: _Run, tree: dict[str, Any], marks: SourceMap, working_dir: str, name: str) -> None:
    normalize.apply_defaults(tree, run.env)
    if run.options.resolve_paths:
        resolve_tree_paths(tree, working_dir, run.home)
    lenient = _unselected(tree, run.options.services)
    normalize.merge_env_files(tree, run.env, marks, working_dir, lenient)
    if run.options.normalize:
        normalize.normalize_project(tree, name)


def _unselected(tree: dict[str, Any], named: tuple[str, ...]) -> frozenset[str]:
    """Services outside the closure of the named ones (none when nothing is named)."""
    services = normalize.services_of(tree)
    if not named:
        return frozenset()
    todo, seen = [n for n in named if n in services], set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            deps = services[name].get("depends_on")
            todo.extend(d for d in (deps if isinstance(deps, dict) else {}) if d in services)
    return frozenset(services) - seen


_TOP_ORDER = ("name", "services", "networks", "volumes", "secrets", "configs")


def _ordered(tree: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys in the order compose prints them; x-* and the rest after."""
    head = {k: tree[k] for k in _TOP_ORDER if k in tree}
    return {**head, **{k: v for k, v in tree.items() if k not in head}}
