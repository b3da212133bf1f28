"""ContainerSpec/Handle serialization, spec validation, capability sets, spec_from_service."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from compose.errors import ContainerError
from compose.runtime import (
    ContainerHandle,
    ContainerSpec,
    Limits,
    Mount,
    Ulimit,
    caps,
    spec_from_service,
)
from compose.runtime.validate import validate_spec


def _spec(tmp_path: Path, **fields) -> ContainerSpec:
    layer = tmp_path / "layer"
    layer.mkdir(exist_ok=True)
    base = dict(
        id="p-web-1",
        service="web",
        replica=1,
        layers=(layer,),
        replica_dir=tmp_path / "r",
        argv=("true",),
    )
    base.update(fields)
    return ContainerSpec(**base)


def test_spec_round_trips_through_json_types(tmp_path):
    spec = _spec(
        tmp_path,
        mounts=(Mount("/data", source=str(tmp_path)),),
        etc_files=(("/etc/hosts", tmp_path / "hosts"),),
        netns_path=Path("/run/netns/x"),
        limits=Limits(memory=1 << 20, ulimits=(Ulimit("nofile", 10, 20),)),
        sysctls=(("net.core.somaxconn", "1024"),),
        cap_add=("NET_ADMIN",),
    )
    import json

    assert ContainerSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_handle_round_trips(tmp_path):
    handle = ContainerHandle(
        "p-web-1", 10, 20, 9, 19, tmp_path, "pycompose/p/p-web-1", tmp_path / "log", "web", 1
    )
    assert ContainerHandle.from_dict(handle.to_dict()) == handle


def test_derived_paths(tmp_path):
    spec = _spec(tmp_path, cgroup_parent="/pycompose/proj/")
    assert spec.upper_dir == tmp_path / "r/upper"
    assert spec.log_file == tmp_path / "r/container.log"
    assert spec.cgroup_path == "pycompose/proj/p-web-1"
    assert spec.subject == 'service "web" replica 1'


def test_validate_lists_every_problem_on_one_line(tmp_path):
    spec = _spec(
        tmp_path,
        argv=(),
        workdir="rel",
        mounts=(Mount("data", source="/nope-x"),),
        sysctls=(("kernel.panic", "1"),),
        cap_add=("FLY",),
        limits=Limits(ulimits=(Ulimit("bogus", 1, 1),)),
    )
    with pytest.raises(ContainerError) as info:
        validate_spec(spec)
    text = str(info.value)
    assert "\n" not in text
    for part in (
        "no command specified",
        "'rel' is not absolute",
        "'data' is not absolute",
        "does not exist: /nope-x",
        "'kernel.panic' is not namespaced",
        "unknown capability: 'FLY'",
        "unknown ulimit 'bogus'",
    ):
        assert part in text


def test_net_sysctls_are_refused_on_the_host_network(tmp_path):
    with pytest.raises(ContainerError, match=r"not allowed in the host's network namespace"):
        validate_spec(_spec(tmp_path, host_network=True, sysctls=(("net.ipv4.ip_forward", "1"),)))


def test_capability_sets():
    assert caps.effective_set() == caps.DOCKER_DEFAULT
    assert caps.mask(caps.DOCKER_DEFAULT) == 0xA80425FB
    assert caps.effective_set(("cap_net_admin",), ("MKNOD",)) == (
        caps.DOCKER_DEFAULT | {"NET_ADMIN"}
    ) - {"MKNOD"}
    assert caps.effective_set(("NET_ADMIN",), ("ALL",)) == {"NET_ADMIN"}
    assert caps.effective_set(privileged=True) == frozenset(caps.NAMES)
    assert caps.effective_set(("ALL",), ("SYS_ADMIN",)) == frozenset(caps.NAMES) - {"SYS_ADMIN"}


@dataclass
class _Cfg:
    entrypoint: tuple[str, ...] | None = ("/docker-entrypoint.sh",)
    cmd: tuple[str, ...] | None = ("redis-server",)
    env: tuple[str, ...] = ("PATH=/usr/local/bin:/usr/bin:/bin", "REDIS_VERSION=7")
    working_dir: str = "/data"
    user: str = "redis"
    stop_signal: str | None = "SIGINT"


@dataclass
class _Image:
    layers: tuple[Path, ...] = (Path("/l1"), Path("/l2"))
    config: _Cfg = field(default_factory=_Cfg)


def test_spec_from_service_applies_docker_defaults(tmp_path):
    spec = spec_from_service(
        container_id="p-cache-2",
        service="cache",
        replica=2,
        image=_Image(),
        replica_dir=tmp_path,
        command="redis-server --appendonly yes",
        environment={"EXTRA": "1", "UNSET": None},
    )
    assert spec.argv == ("/docker-entrypoint.sh", "redis-server", "--appendonly", "yes")
    assert spec.env == (
        "PATH=/usr/local/bin:/usr/bin:/bin",
        f"HOSTNAME={spec.hostname}",
        "EXTRA=1",
        "REDIS_VERSION=7",
    )
    assert len(spec.hostname) == 12
    assert (spec.user, spec.workdir, spec.stop_signal) == ("redis", "/data", 2)
    assert spec.layers == (Path("/l1"), Path("/l2"))
