"""GET /<key>: the greeting and how often <key> was asked for (a counter in redis, found by
its service name). Standard library only."""

import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def incr(key: str) -> int:
    with socket.create_connection(("redis", 6379), timeout=3) as conn:
        conn.sendall(f"*2\r\n$4\r\nINCR\r\n${len(key)}\r\n{key}\r\n".encode())
        reply = conn.makefile("rb").readline()
    if not reply.startswith(b":"):
        raise RuntimeError(f"redis said {reply!r}")
    return int(reply[1:])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        key = self.path.strip("/") or "visits"
        body = f"{os.environ.get('GREETING', 'hello')} {key}={incr(key)}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: object) -> None:
        print(f"web: {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}", flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening on :8000", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
