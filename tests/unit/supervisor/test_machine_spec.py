"""model service -> container spec (pure): what the runtime runs for a compose service."""

from __future__ import annotations

from pathlib import Path

from compose.images.model import Image, ImageConfig
from compose.model import Service
from compose.runtime import Mount, Ulimit
from compose.supervisor.machine.spec import LogOptions, Made, container_spec, log_options

IMAGE = Image(
    "docker.io/library/redis:7",
    "sha256:" + "0" * 64,
    (Path("/l1"), Path("/l2")),
    ImageConfig(
        entrypoint=("/docker-entrypoint.sh",),
        cmd=("redis-server",),
        env=("PATH=/usr/local/bin:/usr/bin:/bin", "REDIS_VERSION=7"),
        working_dir="/data",
        user="redis",
    ),
)


def _service(**fields: object) -> Service:
    return Service.model_validate({"image": "redis", **fields}).model_copy(update={"name": "web"})


def test_a_service_becomes_the_spec_of_one_replica(tmp_path: Path) -> None:
    svc = _service(
        command=["redis-server", "--save", ""],
        mem_limit="64m",
        cpus=0.5,
        ulimits={"nofile": {"soft": 100, "hard": 200}, "nproc": 50},
        security_opt=["no-new-privileges:true", "seccomp:unconfined"],
        user="1000",
        stop_signal="SIGINT",
        stop_grace_period="3s",
        environment={"A": "1"},
        cap_add=["NET_ADMIN"],
        deploy={"resources": {"limits": {"pids": 20}}},
        sysctls={"net.core.somaxconn": "1024"},
        labels={"x": "y"},
        tty=True,
        hostname="web",
    )
    made = Made(
        tmp_path,
        mounts=(Mount("/data", "bind", "/v"),),
        link_env=("DB_PORT=tcp://10.0.0.2:5432",),
        log_path=tmp_path / "web.log",
    )
    spec = container_spec(svc, name="p-web-3", project="p", index=3, image=IMAGE, made=made)
    assert (spec.id, spec.service, spec.replica) == ("p-web-3", "web", 3)
    assert spec.argv == ("/docker-entrypoint.sh", "redis-server", "--save", "")
    assert spec.env[:4] == (
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "HOSTNAME=web",
        "TERM=xterm",
        "DB_PORT=tcp://10.0.0.2:5432",
    )
    assert "A=1" in spec.env and "REDIS_VERSION=7" in spec.env
    assert spec.limits.memory == 64 << 20 and spec.limits.cpus == 0.5 and spec.limits.pids == 20
    assert spec.limits.ulimits == (Ulimit("nofile", 100, 200), Ulimit("nproc", 50, 50))
    assert spec.no_new_privileges and not spec.seccomp and spec.cap_add == ("NET_ADMIN",)
    assert (spec.user, spec.stop_signal, spec.stop_grace_period) == ("1000", 2, 3.0)
    assert spec.sysctls == (("net.core.somaxconn", "1024"),) and spec.labels == (("x", "y"),)
    assert spec.mounts == made.mounts and spec.log_path == tmp_path / "web.log"
    assert spec.cgroup_parent.endswith("/p") and not spec.host_network


def test_host_network_and_the_image_defaults(tmp_path: Path) -> None:
    spec = container_spec(
        _service(network_mode="host"),
        name="p-web-1",
        project="p",
        index=1,
        image=IMAGE,
        made=Made(tmp_path),
    )
    assert spec.host_network and spec.argv == ("/docker-entrypoint.sh", "redis-server")
    assert (spec.user, spec.workdir) == ("redis", "/data") and len(spec.hostname) == 12


def test_the_stop_signal_is_the_services_else_the_images_else_sigterm(tmp_path: Path) -> None:
    """docker: ``stop_signal:`` wins, else the image's STOPSIGNAL (nginx SIGQUIT, postgres
    SIGINT), else SIGTERM."""
    from dataclasses import replace

    quits = replace(IMAGE, config=replace(IMAGE.config, stop_signal="SIGQUIT"))

    def signal_of(svc: Service, image: Image) -> int:
        made = Made(tmp_path)
        return container_spec(
            svc, name="p-web-1", project="p", index=1, image=image, made=made
        ).stop_signal

    assert signal_of(_service(), quits) == 3
    assert signal_of(_service(stop_signal="SIGINT"), quits) == 2
    assert signal_of(_service(), IMAGE) == 15


def test_each_container_has_its_own_hostname(tmp_path: Path) -> None:
    """docker: the hostname is the container's short id, so a recreated replica's successor
    (a new container) gets a new one; ``hostname:`` wins."""
    from compose.state import ReplicaRecord, new_container_id
    from compose.supervisor.machine import etcfiles

    svc = _service()
    old = ReplicaRecord("p", "web", 1, container_id=new_container_id())
    new = ReplicaRecord("p", "web", 1, "0a1b2c3d4e5f_p-web-1", container_id=new_container_id())
    assert etcfiles.hostname(svc, old) == old.container_id[:12] != etcfiles.hostname(svc, new)
    made = Made(tmp_path, hostname=etcfiles.hostname(svc, new))
    spec = container_spec(svc, name=new.name, project="p", index=1, image=IMAGE, made=made)
    assert spec.id == new.name and spec.hostname == new.short_id
    assert f"HOSTNAME={new.short_id}" in spec.env
    assert etcfiles.hostname(_service(hostname="web"), old) == "web"


def test_log_options() -> None:
    assert log_options(None) == LogOptions()
    rotated = _service(
        logging={"driver": "json-file", "options": {"max-size": "1m", "max-file": 3}}
    )
    assert log_options(rotated.logging) == LogOptions(max_size=1024**2, max_files=3)
    local = _service(logging={"driver": "local"})
    assert log_options(local.logging) == LogOptions(max_size=20 * 1024**2, max_files=5)
    none = _service(logging={"driver": "none"})
    assert log_options(none.logging) == LogOptions(log_path=Path("/dev/null"))
