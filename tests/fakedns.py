"""A resolver for tests to put behind netplug's DNS server: ``example.test`` (and
``outside.test``) → 192.0.2.99, anything else NXDOMAIN. UDP on ``address``:``port`` of the
calling thread's netns (port 0: any free one)."""

from __future__ import annotations

import socket
import threading

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

NAMES = ("example.test.", "outside.test.")


class FakeUpstream:
    def __init__(self, address: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.address, self.port = self.sock.getsockname()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                data, client = self.sock.recvfrom(4096)
            except OSError:
                return
            request = DNSRecord.parse(data)
            reply = request.reply()
            name = str(request.q.qname)
            if name in NAMES:
                reply.add_answer(RR(name, QTYPE.A, rdata=A("192.0.2.99"), ttl=60))
            else:
                reply.header.rcode = RCODE.NXDOMAIN
            self.sock.sendto(reply.pack(), client)

    def close(self) -> None:
        self.sock.close()
        self.thread.join(2)
