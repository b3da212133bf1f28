"""Asks TARGET (service:port) every EVERY seconds, by name, and logs which replica answered.

The name is resolved as any program resolves it (getaddrinfo): pycompose's embedded DNS on the
network's gateway answers with every running replica, and the client picks one at random.
"""

import os
import random
import signal
import socket
import sys
import time
import urllib.request

HOST, _, PORT = os.environ.get("TARGET", "web:8000").partition(":")
EVERY = float(os.environ.get("EVERY", "1"))


def addresses() -> list[str]:
    """Every address the name has: the embedded DNS answers with every running replica."""
    infos = socket.getaddrinfo(HOST, int(PORT), socket.AF_INET, socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


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
