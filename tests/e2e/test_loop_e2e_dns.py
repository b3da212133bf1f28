"""The embedded DNS as glibc sees it: a service with 40 replicas (too many A records for one
512-byte UDP reply: TC, then TCP) resolves to all of them, and a replica's address resolves
back (PTR) to ``<container>.<project>_<network>`` as with Docker."""

from __future__ import annotations

import os

import pytest
from e2e_helpers import Cli, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(120)]

STACK = """
services:
  web:
    image: IMAGE
    command: SLEEP
    scale: 40
  client:
    image: PYTHON
    command: ["python3", "-c", "import signal, time;
      signal.signal(15, lambda *a: exit(0)); time.sleep(1000)"]
"""

PROBE = """
import socket
ips = {a[4][0] for a in socket.getaddrinfo("web", 80, proto=socket.IPPROTO_TCP)}
print(len(ips), socket.gethostbyname("web-1"))
"""


def test_glibc_gets_every_replica_and_reverse_names(project, tmp_path):
    path = write_stack(tmp_path, STACK.replace("PYTHON", os.environ["WEB_IMAGE"]))
    cli = Cli(project, file=path)
    cli.run("up", "-d")
    count, ip = cli.run("exec", "-T", "client", "python3", "-c", PROBE).stdout.split()
    assert count == "40"  # not pinned to one replica by /etc/hosts; TC then TCP for all 40
    reverse = cli.run("exec", "-T", "--index", "2", "web", "nslookup", ip).stdout
    assert f"{project}-web-1.{project}_default" in reverse, reverse
