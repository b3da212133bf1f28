"""A userland relay for a netns's outbound traffic, made by the host's own sockets (as
rootless BuildKit's slirp): it works where the host's firewall drops forwarded packets.

    relay = EgressRelay(gateway, nameservers)       listens on the gateway's address
    open_egress(project, network, key, client_ip, subnet, relay)   per client (one nft table)
    close_egress(project, network, key)             tolerates absence
    relay.close()

The client's TCP to any address outside its subnet is DNATed to the relay, which reads the
original destination (SO_ORIGINAL_DST) and connects there; its DNS (UDP 53 to any address)
goes to the relay's UDP port, which asks ``nameservers`` in turn. Addresses on netplug's
bridges are refused (replicas of other networks stay out of reach, as with NAT). Tables are
named like a publish key's (``ports_table``): ``remove_network`` removes what
``close_egress`` missed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import threading
from collections.abc import Sequence
from pathlib import Path

from netplug import nft
from netplug.naming import BRIDGE_PREFIX, ports_table
from netplug.netns import NetnsRef

SO_ORIGINAL_DST = 80
CONNECT_TIMEOUT = 30.0
DNS_TIMEOUT = 5.0
CHUNK = 1 << 16


def open_egress(
    project: str,
    network: str,
    key: str,
    client_ip: str,
    subnet: str,
    relay: EgressRelay,
    *,
    host_netns: NetnsRef = None,
) -> None:
    table = ports_table(project, network, key)
    rules = nft.egress_ruleset(
        table, client_ip, subnet, relay.address, relay.tcp_port, relay.udp_port
    )
    nft.apply(host_netns, rules)


def close_egress(project: str, network: str, key: str, *, host_netns: NetnsRef = None) -> None:
    nft.delete_table(host_netns, ports_table(project, network, key))


class EgressRelay:
    def __init__(self, address: str, nameservers: Sequence[str]) -> None:
        self.address = address
        self.nameservers = tuple(nameservers)
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._tcp.bind((address, 0))
            self._tcp.listen(128)
            self._udp.bind((address, 0))
        except OSError:
            self._tcp.close()
            self._udp.close()
            raise
        self.tcp_port = self._tcp.getsockname()[1]
        self.udp_port = self._udp.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._dns, daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        for sock in (self._tcp, self._udp):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    # -- TCP ------------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _peer = self._tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(conn,), daemon=True).start()

    def _connect(self, conn: socket.socket) -> None:
        try:
            raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
            port, packed = struct.unpack_from("!2xH4s", raw)
            address = socket.inet_ntoa(packed)
            if _on_a_bridge(address):
                raise OSError("another network's address")
            upstream = socket.create_connection((address, port), CONNECT_TIMEOUT)
        except OSError:
            conn.close()  # the client sees its connection reset, as an unreachable address
            return
        upstream.settimeout(None)
        back = threading.Thread(target=_pump, args=(upstream, conn), daemon=True)
        back.start()
        _pump(conn, upstream)
        back.join()
        conn.close()
        upstream.close()

    # -- DNS ------------------------------------------------------------------------------------
    def _dns(self) -> None:
        while not self._closed.is_set():
            try:
                query, client = self._udp.recvfrom(CHUNK)
            except OSError:
                return
            threading.Thread(target=self._resolve, args=(query, client), daemon=True).start()

    def _resolve(self, query: bytes, client: tuple[str, int]) -> None:
        for server in self.nameservers:
            family = socket.AF_INET6 if ":" in server else socket.AF_INET
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.settimeout(DNS_TIMEOUT)
                try:
                    sock.sendto(query, (server, 53))
                    answer = sock.recv(CHUNK)
                except OSError:
                    continue
            with contextlib.suppress(OSError):
                self._udp.sendto(answer, client)
            return


def _on_a_bridge(address: str) -> bool:
    """Is ``address`` on one of netplug's bridges? (their replicas are isolated from each
    other's networks: the relay must not be a way around that, as NAT is not)."""
    ip = ipaddress.IPv4Address(address)
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) < 8 or not fields[0].startswith(BRIDGE_PREFIX):
            continue
        dest, mask = (
            socket.inet_ntoa(struct.pack("<I", int(f, 16))) for f in (fields[1], fields[7])
        )
        if ip in ipaddress.IPv4Network(f"{dest}/{mask}", strict=False):
            return True
    return False


def _pump(src: socket.socket, dst: socket.socket) -> None:
    """Copy until EOF, then half-close ``dst`` (the other direction keeps going)."""
    try:
        while True:
            data = src.recv(CHUNK)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            src.shutdown(socket.SHUT_RD)
