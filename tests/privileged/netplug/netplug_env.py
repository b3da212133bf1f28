"""Shared helpers for netplug privileged tests: a test-made "host" netns, replica netns, tiny TCP
responders/clients whose sockets are opened inside a netns (threads, no processes), and a
teardown that fails the test on any leak (links, nft rules, IPAM entries, netns files)."""

from __future__ import annotations

import secrets
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import netplug
from netplug import netns
from netplug.ipam.store import _looks_like_ip
from netplug.netns import call_in


@dataclass
class Env:
    root: Path
    salt: str
    networks: list[netplug.NetworkConfig] = field(default_factory=list)
    replicas: list[Path] = field(default_factory=list)
    attached: list[tuple[str, list[netplug.AttachRequest | netplug.NetworkConfig]]] = field(
        default_factory=list
    )
    closers: list[object] = field(default_factory=list)

    @property
    def host(self) -> Path:
        return self.root / "host"

    @property
    def ipam(self) -> Path:
        return self.root / "ipam"

    @property
    def project(self) -> str:
        return f"t{self.salt}"

    def network(self, name: str, **kw: object) -> tuple[netplug.NetworkConfig, netplug.NetworkInfo]:
        cfg = netplug.NetworkConfig(self.project, name, **kw)  # type: ignore[arg-type]
        self.networks.append(cfg)
        return cfg, netplug.ensure_network(cfg, host_netns=self.host, ipam_root=self.ipam)

    def replica(self, name: str) -> Path:
        path = netns.create_netns(self.root / "ns" / name)
        self.replicas.append(path)
        return path

    def attach(
        self,
        replica_id: str,
        *reqs: netplug.AttachRequest | netplug.NetworkConfig,
        ns: Path | None = None,
    ) -> tuple[Path, tuple[netplug.Attachment, ...]]:
        path = ns or self.replica(replica_id)
        self.attached.append((replica_id, list(reqs)))
        done = netplug.attach(
            self.project, replica_id, list(reqs), path, host_netns=self.host, ipam_root=self.ipam
        )
        return path, done

    def sh(self, ns: Path, *cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["nsenter", f"--net={ns}", *cmd], capture_output=True, text=True)


class Responder:
    """Accepts TCP connections inside a netns and answers each with ``reply``."""

    def __init__(self, ns: Path | None, port: int, reply: bytes, ip: str = "0.0.0.0") -> None:
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        self.sock = call_in(ns, lambda: socket.socket(family, socket.SOCK_STREAM))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(64)
        self.reply = reply
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(self.reply)

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(2)


def fetch(ns: Path | None, ip: str, port: int, timeout: float = 3.0) -> bytes:
    """Connect from inside ``ns`` (IPv4 or IPv6) and read until EOF."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = call_in(ns, lambda: socket.socket(family, socket.SOCK_STREAM))
    with sock:
        sock.settimeout(timeout)
        sock.connect((ip, port))
        chunks = []
        while data := sock.recv(4096):
            chunks.append(data)
        return b"".join(chunks)


def reachable(ns: Path | None, ip: str, port: int, timeout: float = 0.5) -> bool:
    try:
        fetch(ns, ip, port, timeout)
    except OSError:
        return False
    return True


def ip_files(env: Env) -> list[Path]:
    """IPAM entries (files named by address), not temp files of a killed writer."""
    return [p for p in env.ipam.rglob("*") if p.is_file() and _looks_like_ip(p.name)]


def assert_no_leaks(env: Env) -> None:
    links = env.sh(env.host, "ip", "-o", "link", "show").stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
    assert [n for n in names if n.startswith(("pcb-", "pcv-"))] == [], links
    ruleset = env.sh(env.host, "nft", "list", "ruleset").stdout
    assert "table" not in ruleset, ruleset
    ns_dir = env.root / "ns"
    assert not ns_dir.exists() or list(ns_dir.iterdir()) == []
    assert threading.active_count() < 50


@pytest.fixture(name="env")
def env_fixture(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path, secrets.token_hex(3))
    netns.create_netns(e.host)
    try:
        yield e
        _close(e)
        _detach_all(e)
        assert ip_files(e) == [], "IPAM entries left after detach"
        _teardown(e)
        assert_no_leaks(e)
    finally:
        _close(e)
        _detach_all(e)
        _teardown(e)
        netns.remove_netns(e.host)


def _close(e: Env) -> None:
    while e.closers:
        try:
            e.closers.pop().close()  # type: ignore[attr-defined]
        except Exception:
            pass


def _detach_all(e: Env) -> None:
    for replica_id, reqs in e.attached:
        netplug.detach(e.project, replica_id, reqs, host_netns=e.host, ipam_root=e.ipam)


def _teardown(e: Env) -> None:
    for path in e.replicas:
        netns.remove_netns(path)
    for cfg in e.networks:
        netplug.remove_network(cfg, host_netns=e.host, ipam_root=e.ipam)
