"""Answers every GET with the name of the replica that served it (standard library only)."""

import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def replica_name() -> str:
    """Our own /etc/hosts line: '<ip> <hostname> <container> <service> <service>-<N>'."""
    me = socket.gethostname()
    with open("/etc/hosts") as hosts:
        for line in hosts:
            names = line.split()
            if me in names[1:]:
                return names[-1]
    return me


NAME = replica_name()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"{NAME}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{NAME} listening on :8000", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
