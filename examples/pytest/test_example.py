"""Tests against a redis + HTTP stack: reached on container IPs, exec into a service,
snapshot/restore between tests. Run as root: ``pytest examples/pytest -n 2``."""

import socket
import urllib.request

from compose.testing import Stack


def redis(stack: Stack, *command: str) -> bytes:
    """One RESP command straight to redis on its container IP (no published port)."""
    payload = f"*{len(command)}\r\n" + "".join(f"${len(c)}\r\n{c}\r\n" for c in command)
    with socket.create_connection(stack.address("redis", 6379), timeout=5) as conn:
        conn.sendall(payload.encode())
        return conn.recv(65536)


def test_http_service_counts_in_redis(stack: Stack) -> None:
    url = stack.url("web", 8000, path="/hits")
    first = urllib.request.urlopen(url, timeout=5).read().decode()
    second = urllib.request.urlopen(url, timeout=5).read().decode()
    assert first.startswith("hello hits=") and second.startswith("hello hits=")
    assert int(second.split("=")[1]) == int(first.split("=")[1]) + 1


def test_redis_on_its_container_ip(stack: Stack) -> None:
    assert redis(stack, "PING") == b"+PONG\r\n"


def test_exec_in_a_service(stack: Stack) -> None:
    result = stack.exec("redis", "redis-cli", "info", "server")
    assert result.exit_code == 0 and "redis_version" in result.output
    assert stack.exec("redis", "sh", "-c", "exit 3").exit_code == 3
    assert stack.env("web")["GREETING"] == "hello"


def test_restore_forgets_what_a_test_wrote(fresh: Stack) -> None:
    assert redis(fresh, "SET", "scratch", "1") == b"+OK\r\n"
    fresh.restore("seeded")
    assert redis(fresh, "GET", "scratch") == b"$-1\r\n"  # written since the snapshot: gone
    assert redis(fresh, "GET", "greeting") == b"$6\r\nseeded\r\n"


def test_each_test_starts_from_the_snapshot(fresh: Stack) -> None:
    assert redis(fresh, "GET", "scratch") == b"$-1\r\n"
    assert redis(fresh, "INCR", "counter") == b":1\r\n"
