"""Greets NAME, shows its hostname and counts visits in redis (standard library only)."""

import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def redis_address() -> tuple[str, int]:
    # Docker legacy link variables (links: [redis:db]); fall back to the DNS name.
    host = os.environ.get("DB_PORT_6379_TCP_ADDR", "redis")
    port = int(os.environ.get("DB_PORT_6379_TCP_PORT", "6379"))
    return host, port


def redis_incr(key: str) -> int:
    with socket.create_connection(redis_address(), timeout=3) as conn:
        payload = f"*2\r\n$4\r\nINCR\r\n${len(key)}\r\n{key}\r\n".encode()
        conn.sendall(payload)
        reply = conn.makefile("rb").readline()
    if not reply.startswith(b":"):
        raise RuntimeError(f"redis said {reply!r}")
    return int(reply[1:])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        visits = redis_incr("visits")
        body = (
            f"Hello {os.environ.get('NAME', 'world')}! "
            f"I am {socket.gethostname()}; this page has been visited {visits} times.\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    # PID 1 gets no default SIGTERM action: exit promptly on `down`/`stop` instead of being
    # killed after the grace period.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = int(os.environ.get("PORT", "8000"))
    print(f"listening on :{port}, redis at {redis_address()}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
