"""A tiny bearer-token server for docker-registry's ``token`` auth (Docker Hub's scheme).

Keys come from the ``openssl`` CLI (an RSA key + self-signed cert the registry trusts); tokens
are RS256 JWTs whose ``kid`` is the libtrust key id the registry looks keys up by. Anonymous
clients get ``pull``/``push`` on any repository except ``private/*``, which needs USER/PASSWORD
(basic auth on the token request). Every token request is recorded in ``requests``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tests.images.registry import PASSWORD, USER

SERVICE = "pycompose-test-registry"
ISSUER = "pycompose-test-token-issuer"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def _key_id(cert: Path) -> str:
    """libtrust's key id: base32 of the first 240 bits of sha256(DER public key), 4-groups."""
    pem = _openssl("x509", "-in", str(cert), "-pubkey", "-noout")
    der = _openssl("pkey", "-pubin", "-outform", "DER", data=pem)
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(text[i : i + 4] for i in range(0, len(text), 4))


@dataclass
class TokenServer:
    directory: Path
    port: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key, self.cert = self.directory / "token.key", self.directory / "token.crt"
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(self.key),
            "-out",
            str(self.cert),
            "-days",
            "2",
            "-subj",
            "/CN=pycompose-token",
        )
        self.kid = _key_id(self.cert)
        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def registry_config(self) -> list[str]:
        return [
            "auth:",
            "  token:",
            f"    realm: {self.realm}",
            f"    service: {SERVICE}",
            f"    issuer: {ISSUER}",
            f"    rootcertbundle: {self.cert}",
        ]

    def token(self, scope: str, user: str | None) -> str | None:
        access = []
        for item in scope.split():
            kind, name, actions = item.split(":", 2) if item.count(":") >= 2 else ("", "", "")
            if name.startswith("private/") and user != USER:
                return None
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user or "",
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = _openssl("dgst", "-sha256", "-sign", str(self.key), data=signing.encode())
        return f"{signing}.{_b64(signature)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                user = _basic_user(self.headers.get("Authorization", ""))
                server.requests.append({**query, "user": user or ""})
                if user == "":  # credentials sent but wrong
                    return self._answer(401, {"details": "incorrect username or password"})
                token = server.token(query.get("scope", ""), user)
                if token is None:
                    return self._answer(401, {"details": "authentication required"})
                return self._answer(200, {"token": token, "expires_in": 300})

            def _answer(self, status: int, doc: dict) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _basic_user(header: str) -> str | None:
    """None: anonymous; "": wrong credentials; else the user name."""
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user if (user, password) == (USER, PASSWORD) else ""
