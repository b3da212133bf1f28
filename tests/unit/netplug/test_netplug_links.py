"""Docker legacy link variables: the moby links_test.go vector, a redis-like target, replicas."""

from __future__ import annotations

from netplug.links import LinkTarget, link_env, parse_port, replica_link_env, sort_ports

MOBY_PORTS = ["6300/udp", "6379/tcp", "6380/tcp", "6381/tcp", "6382/udp"]


def _quad(prefix: str, ip: str, port: int, proto: str) -> dict[str, str]:
    key = f"{prefix}_PORT_{port}_{proto.upper()}"
    return {
        key: f"{proto}://{ip}:{port}",
        f"{key}_ADDR": ip,
        f"{key}_PORT": str(port),
        f"{key}_PROTO": proto,
    }


def test_netplug_moby_vector_exactly() -> None:
    ip = "172.0.17.2"
    env = link_env("docker", "db", ip, MOBY_PORTS, ["PASSWORD=gordon"])
    expected = {"DOCKER_PORT": f"tcp://{ip}:6379"}
    for port, proto in [(6379, "tcp"), (6380, "tcp"), (6381, "tcp"), (6300, "udp"), (6382, "udp")]:
        expected.update(_quad("DOCKER", ip, port, proto))
    expected.update(
        {
            "DOCKER_PORT_6379_TCP_START": f"tcp://{ip}:6379",
            "DOCKER_PORT_6379_TCP_PORT_START": "6379",
            "DOCKER_PORT_6379_TCP_END": f"tcp://{ip}:6381",
            "DOCKER_PORT_6379_TCP_PORT_END": "6381",
            "DOCKER_NAME": "/db/docker",
            "DOCKER_ENV_PASSWORD": "gordon",
        }
    )
    assert env == expected


def test_netplug_redis_like_target() -> None:
    env = link_env(
        "redis-cache",
        "app-web-1",
        "172.28.0.3",
        ["6379/tcp"],
        {"REDIS_VERSION": "7.0", "HOME": "/root", "PATH": "/bin"},
    )
    assert env == {
        "REDIS_CACHE_PORT": "tcp://172.28.0.3:6379",
        **_quad("REDIS_CACHE", "172.28.0.3", 6379, "tcp"),
        "REDIS_CACHE_NAME": "/app-web-1/redis-cache",
        "REDIS_CACHE_ENV_REDIS_VERSION": "7.0",
    }


def test_netplug_link_without_ports_has_only_name_and_env() -> None:
    assert link_env("db", "web", "10.0.0.2", [], ["A=1", "NOEQUALS"]) == {
        "DB_NAME": "/web/db",
        "DB_ENV_A": "1",
    }


def test_netplug_tcp_first_even_when_udp_lower() -> None:
    env = link_env("x", "p", "10.0.0.2", ["53/udp", "80"])
    assert env["X_PORT"] == "tcp://10.0.0.2:80"
    assert sort_ports([*parse_port("8000-8001/udp"), (9, "tcp"), (7, "sctp")]) == [
        (9, "tcp"),
        (7, "sctp"),
        (8000, "udp"),
        (8001, "udp"),
    ]


def test_netplug_dot_kept_and_dash_mapped_in_prefix() -> None:
    assert "MY_DB.X_NAME" in link_env("my-db.x", "p", "10.0.0.2", [])


def test_netplug_replica_links_point_at_replica_one_and_user_env_wins() -> None:
    reps = [LinkTarget("db", 2, "10.0.0.3", ("5432",)), LinkTarget("db", 1, "10.0.0.2", ("5432",))]
    env = replica_link_env("proj-web-1", [("database", reps)], {"DATABASE_PORT": "mine"})
    assert env["DATABASE_PORT"] == "mine"
    assert env["DATABASE_PORT_5432_TCP_ADDR"] == "10.0.0.2"
    assert env["DB_1_PORT_5432_TCP_ADDR"] == "10.0.0.2"
    assert env["DB_2_PORT_5432_TCP_ADDR"] == "10.0.0.3"
    assert env["DB_2_NAME"] == "/proj-web-1/db_2"
