"""A stack's build: sections as build requests, and which services up/build must build
(docker compose's rules: naming, labels, args, secrets, pull_policy, service: contexts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compose.build import stack as sb
from compose.errors import BuildError
from compose.model import load_stack
from compose.stackfile import LoadOptions


def stack_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Any:
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    (tmp_path / "app").mkdir(exist_ok=True)
    return load_stack(LoadOptions(files=(str(path),), cwd=tmp_path, environ=environ or {}))


def request(stack: Any, name: str, **flags: Any) -> Any:
    warnings: list[str] = []
    req = sb.request_for(stack, stack.services[name], sb.BuildFlags(**flags), warnings, {})
    return req, warnings


def test_naming_labels_args_and_options(tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text("t0k3n")
    stack = stack_of(
        tmp_path,
        "name: shop\nservices:\n  web:\n    build:\n      context: ./app\n"
        "      dockerfile: web.Dockerfile\n      args: {A: '1', FROM_ENV: null}\n"
        "      tags: [extra/web:1]\n      labels: {team: core}\n      target: prod\n"
        "      extra_hosts: ['db=10.0.0.2', 'v6=[::1]']\n      shm_size: 64m\n"
        "      ulimits: {nofile: {soft: 1024, hard: 2048}}\n      secrets: [tok]\n"
        "      network: none\n      no_cache: true\n      pull: true\n"
        "secrets:\n  tok:\n    file: ./token.txt\n",
        environ={"FROM_ENV": "from-shell"},
    )
    req, _ = request(stack, "web", args={"B": "2", "C": None}, environ={"C": "from-flag-env"})
    assert req.tags == ("shop-web", "extra/web:1")
    assert req.labels == {
        "team": "core",
        "com.docker.compose.project": "shop",
        "com.docker.compose.service": "web",
        "com.docker.compose.version": sb.compose_version(),
    }
    assert req.args == {"A": "1", "FROM_ENV": "from-shell", "B": "2", "C": "from-flag-env"}
    assert req.dockerfile == "web.Dockerfile" and req.target == "prod"
    assert req.context == tmp_path / "app"
    assert req.extra_hosts == (("db", "10.0.0.2"), ("v6", "::1"))
    assert req.shm_size == 64 * 1024 * 1024
    assert [(u.name, u.soft, u.hard) for u in req.ulimits] == [("nofile", 1024, 2048)]
    assert req.secrets == {"tok": b"t0k3n"}
    assert req.network == "none" and req.no_cache and req.pull


def test_image_name_and_cache_options(tmp_path: Path) -> None:
    stack = stack_of(
        tmp_path,
        "name: p\nservices:\n  api:\n    image: reg.example/api:2\n"
        "    build:\n      context: ./app\n"
        "      cache_from: [reg.example/api:cache, 'type=local,src=/tmp/c']\n"
        "      cache_to: ['type=registry,ref=x']\n",
    )
    req, warnings = request(stack, "api")
    assert req.tags == ("reg.example/api:2",)
    assert req.cache_from == ("reg.example/api:cache",)
    assert len(warnings) == 2 and "only images are used" in warnings[0]


def test_other_platforms_and_non_git_remote_contexts_are_refused(tmp_path: Path) -> None:
    stack = stack_of(
        tmp_path,
        "services:\n  a:\n    build:\n      context: ./app\n      platforms: [linux/s390x]\n"
        "  b:\n    build: https://tok:en@example.invalid/site.tar.gz\n"
        "  c:\n    build: https://example.invalid/repo.git?ref=a#b\n",
    )
    with pytest.raises(BuildError, match="linux/s390x: pycompose builds for the host"):
        request(stack, "a")
    with pytest.raises(BuildError, match="only git URLs are supported") as err:
        request(stack, "b")
    assert "https://xxxxx:xxxxx@example.invalid/site.tar.gz" in str(err.value)
    with pytest.raises(BuildError, match=r'service "c": .*ref conflicts'):
        request(stack, "c")


def test_a_git_context_is_passed_to_the_builder_as_written(tmp_path: Path) -> None:
    url = "git@git.example.invalid:org/repo.git#main:web"
    stack = stack_of(tmp_path, f"services:\n  w:\n    build:\n      context: {url}\n")
    req, _ = request(stack, "w")
    assert req.git == url and req.dockerfile == "Dockerfile"


class _Store:
    def __init__(self, present: set[str]) -> None:
        self.present = present

    def has(self, ref: str) -> bool:
        return ref in self.present


def test_which_services_up_builds(tmp_path: Path) -> None:
    stack = stack_of(
        tmp_path,
        "name: p\nservices:\n  built:\n    build: ./app\n  missing:\n    build: ./app\n"
        "  always:\n    build: ./app\n    pull_policy: build\n  pulled:\n    image: redis\n",
    )
    store = _Store({"p-built", "p-always"})

    def needs(name: str, **flags: bool) -> bool:
        args = {"build": False, "no_build": False, **flags}
        return sb.needs_build(stack.services[name], store, "p", **args)

    assert [n for n in sorted(stack.services) if needs(n)] == ["always", "missing"]
    assert [n for n in sorted(stack.services) if needs(n, build=True)] == [
        "always",
        "built",
        "missing",
    ]
    assert not any(needs(n, no_build=True) for n in stack.services)


def test_dependencies_and_service_contexts(tmp_path: Path) -> None:
    stack = stack_of(
        tmp_path,
        "services:\n  base:\n    build: ./app\n  app:\n    build:\n      context: ./app\n"
        "      additional_contexts: {base: 'service:base'}\n    depends_on: [db]\n"
        "  db:\n    build: ./app\n",
    )
    assert sb.with_dependencies(stack, ["app"]) == ["app", "db"]
    assert sb.build_order(stack, ["app"]) == [["base"], ["app"]]
    contexts = sb.resolve_contexts(stack, stack.services["app"], {"base": "proj-base"})
    assert contexts == {"base": "docker-image://proj-base"}
