"""Asks TARGET (service:port) every EVERY seconds, by name, and logs which replica answered.

The name is resolved by the nameserver of /etc/resolv.conf (pycompose's embedded DNS on the
network's gateway), which answers with every running replica; the client picks one at random.
(/etc/hosts lists them all too, but glibc's getaddrinfo returns only the first hosts entry.)
"""

import os
import random
import signal
import socket
import struct
import sys
import time
import urllib.request

HOST, _, PORT = os.environ.get("TARGET", "web:8000").partition(":")
EVERY = float(os.environ.get("EVERY", "1"))


def nameserver() -> str:
    with open("/etc/resolv.conf") as conf:
        for line in conf:
            if line.startswith("nameserver"):
                return line.split()[1]
    return "127.0.0.1"


def addresses() -> list[str]:
    """One DNS A query (RFC 1035), the answer's addresses."""
    qid = random.randrange(1 << 16)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in HOST.split(".")) + b"\0"
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(query, (nameserver(), 53))
        reply = sock.recv(4096)
    count, pos, ips = struct.unpack(">H", reply[6:8])[0], 12 + len(qname) + 4, []
    for _ in range(count):
        pos += 2 if reply[pos] & 0xC0 else len(qname)  # a compressed or a full name
        kind, _, _, size = struct.unpack(">HHIH", reply[pos : pos + 10])
        if kind == 1 and size == 4:
            ips.append(socket.inet_ntoa(reply[pos + 10 : pos + 14]))
        pos += 10 + size
    return sorted(ips)


def ask() -> str:
    ips = addresses()
    if not ips:
        return f"{HOST}: no address"
    ip = random.choice(ips)
    with urllib.request.urlopen(f"http://{ip}:{PORT}/", timeout=2) as reply:
        who = reply.read().decode().strip()
    return f"{HOST} -> {len(ips)} replicas; {ip} answered: {who}"


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        try:
            print(ask(), flush=True)
        except OSError as exc:
            print(f"{HOST}: {exc}", flush=True)
        time.sleep(EVERY)
