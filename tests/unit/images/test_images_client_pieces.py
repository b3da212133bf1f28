"""Registry client pieces without a network: settings, credentials, challenges, platforms,
the bearer token flow (against an in-memory registry transport), pull policies, progress."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import httpx
import pytest

from compose.errors import ImageError, UserError
from compose.images import auth
from compose.images.client import RegistryClient
from compose.images.ensure import refresh_interval
from compose.images.platform import parse_platform, select_manifest
from compose.images.progress import LineProgress
from compose.images.settings import HUB_ENDPOINT, RegistrySettings


def test_settings_from_daemon_json(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text(
        json.dumps(
            {
                "registry-mirrors": ["http://m:5000/"],
                "insecure-registries": ["reg.lan:5000", "10.0.0.0/8"],
            }
        )
    )
    s = RegistrySettings.load(path)
    assert s.endpoints("docker.io") == ["http://m:5000", HUB_ENDPOINT]
    assert s.endpoints("reg.lan:5000") == ["http://reg.lan:5000"]
    assert s.endpoints("10.1.2.3:443") == ["http://10.1.2.3:443"]
    assert s.endpoints("127.0.0.5:5000") == ["http://127.0.0.5:5000"]
    assert s.endpoints("localhost:5000") == ["http://localhost:5000"]
    assert s.endpoints("ghcr.io") == ["https://ghcr.io"]
    assert RegistrySettings.load(tmp_path / "absent.json") == RegistrySettings()


def test_credentials_from_docker_config(tmp_path: Path) -> None:
    token = base64.b64encode(b"me:pw:with:colons").decode()
    doc = {
        "auths": {
            "https://index.docker.io/v1/": {"auth": token},
            "http://127.0.0.1:5000": {"username": "u", "password": "p"},
        }
    }
    (tmp_path / "config.json").write_text(json.dumps(doc))
    path = tmp_path / "config.json"
    assert auth.credentials("docker.io", path) == ("me", "pw:with:colons")
    assert auth.credentials("127.0.0.1:5000", path) == ("u", "p")
    assert auth.credentials("other:1", path) is None


def test_docker_config_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert auth.docker_config_path() == tmp_path / "config.json"


def test_parse_challenge() -> None:
    scheme, params = auth.parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:library/redis:pull"'
    )
    assert scheme == "bearer"
    assert params == {
        "realm": "https://auth.example/token",
        "service": "registry.example",
        "scope": "repository:library/redis:pull",
    }
    assert auth.parse_challenge('Basic realm="x"') == ("basic", {"realm": "x"})


INDEX = {
    "manifests": [
        {
            "digest": "sha256:" + "1" * 64,
            "platform": {"os": "linux", "architecture": "arm", "variant": "v7"},
        },
        {
            "digest": "sha256:" + "2" * 64,
            "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
        },
        {"digest": "sha256:" + "3" * 64, "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": "sha256:" + "4" * 64, "platform": {"os": "unknown", "architecture": "unknown"}},
    ]
}


def test_platform_selection() -> None:
    assert select_manifest(INDEX, "linux/amd64", "x").digest.endswith("3")
    assert select_manifest(INDEX, "linux/arm64", "x").digest.endswith("2")
    assert select_manifest(INDEX, "linux/arm64/v8", "x").digest.endswith("2")
    assert select_manifest(INDEX, "linux/arm/v7", "x").digest.endswith("1")
    with pytest.raises(ImageError, match="no matching manifest for linux/ppc64le"):
        select_manifest(INDEX, "linux/ppc64le", "x")
    with pytest.raises(ImageError, match="invalid platform"):
        parse_platform("amd64")


def test_refresh_interval() -> None:
    assert refresh_interval("daily") == 86400
    assert refresh_interval("every_1h30m") == 5400
    assert refresh_interval("missing") is None
    with pytest.raises(UserError):
        refresh_interval("every_soon")


def _fake_registry(seen: list[httpx.Request]) -> httpx.MockTransport:
    body = json.dumps({"schemaVersion": 2, "config": {}, "layers": []}).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "auth.test":
            if request.headers.get("authorization") != "Basic " + base64.b64encode(b"u:p").decode():
                return httpx.Response(401)
            return httpx.Response(200, json={"token": "T0K"})
        if request.headers.get("authorization") != "Bearer T0K":
            challenge = (
                'Bearer realm="https://auth.test/token",service="reg.test",'
                'scope="repository:ns/app:pull"'
            )
            return httpx.Response(
                401,
                headers={"www-authenticate": challenge},
                json={"errors": [{"code": "UNAUTHORIZED", "message": "no"}]},
            )
        return httpx.Response(
            200,
            content=body,
            headers={
                "content-type": "application/vnd.oci.image.manifest.v1+json",
                "docker-content-digest": digest,
            },
        )

    return httpx.MockTransport(handler)


def test_bearer_token_flow_with_credentials() -> None:
    seen: list[httpx.Request] = []
    client = RegistryClient(
        "reg.test", settings=RegistrySettings(), creds=("u", "p"), transport=_fake_registry(seen)
    )
    _, media, _ = client.get_manifest("ns/app", "1", "reg.test/ns/app:1")
    assert media == "application/vnd.oci.image.manifest.v1+json"
    token_req = seen[1]
    assert token_req.url.params["service"] == "reg.test"
    assert token_req.url.params["scope"] == "repository:ns/app:pull"
    assert len(seen) == 3
    client.get_manifest("ns/app", "1", "reg.test/ns/app:1")  # token reused
    assert len(seen) == 4


def test_bearer_wrong_credentials() -> None:
    client = RegistryClient(
        "reg.test", settings=RegistrySettings(), creds=("u", "bad"), transport=_fake_registry([])
    )
    with pytest.raises(ImageError, match="unauthorized: incorrect username or password"):
        client.get_manifest("ns/app", "1", "reg.test/ns/app:1")


def _http_realm_registry(seen: list[httpx.Request]) -> httpx.MockTransport:
    """An https registry whose 401 names a plain-http token server on another host."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "evil.test":
            return httpx.Response(200, json={"token": "T0K"})
        challenge = 'Bearer realm="http://evil.test:31081/token",service="reg.test"'
        return httpx.Response(401, headers={"www-authenticate": challenge})

    return httpx.MockTransport(handler)


def test_credentials_never_go_to_a_plain_http_token_realm() -> None:
    """Review gap 12: the Basic header went in clear text to whatever realm the 401 named."""
    seen: list[httpx.Request] = []
    client = RegistryClient(
        "reg.test",
        settings=RegistrySettings(),
        creds=("u", "p"),
        transport=_http_realm_registry(seen),
    )
    with pytest.raises(ImageError, match=r"http://evil\.test:31081/token, which is not https"):
        client.get_manifest("ns/app", "1", "reg.test/ns/app:1")
    assert [r.url.host for r in seen] == ["reg.test"]  # evil.test was never asked
    assert all("authorization" not in r.headers for r in seen)


def test_an_insecure_registry_may_use_a_plain_http_realm() -> None:
    seen: list[httpx.Request] = []
    settings = RegistrySettings(insecure=("reg.test",))
    client = RegistryClient(
        "reg.test", settings=settings, creds=("u", "p"), transport=_http_realm_registry(seen)
    )
    with pytest.raises(ImageError):  # the fake answers 401 forever; the realm was asked, though
        client.get_manifest("ns/app", "1", "reg.test/ns/app:1")
    token = [r for r in seen if r.url.host == "evil.test"]
    assert token and token[0].headers["authorization"].startswith("Basic ")


def test_line_progress() -> None:
    out = io.StringIO()
    progress = LineProgress(out)
    progress.image_start("redis:7")
    progress.layer_start("sha256:" + "a" * 64, 2_500_000)
    progress.layer_done("sha256:" + "a" * 64, "pull complete")
    assert out.getvalue().splitlines() == [
        "redis:7: Pulling",
        "redis:7 aaaaaaaaaaaa: Downloading 2.5MB",
        "redis:7 aaaaaaaaaaaa: Pull complete",
    ]


def test_mirror_down_falls_back_to_next_endpoint() -> None:
    body = json.dumps({"schemaVersion": 2, "config": {}, "layers": []}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "mirror.test":
            raise httpx.ConnectError("refused", request=request)
        assert request.url.path == "/v2/library/redis/manifests/7"
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    settings = RegistrySettings(mirrors=("http://mirror.test",))
    client = RegistryClient(
        "docker.io", settings=settings, creds=None, transport=httpx.MockTransport(handler)
    )
    client_body, _, _ = client.get_manifest("library/redis", "7", "redis:7")
    assert client_body == body
    assert client.base == HUB_ENDPOINT


def test_blob_download_retries_and_resumes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("compose.images.client.BACKOFF", (0, 0, 0))
    data = bytes(range(256)) * 4096
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    calls: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("range"))
        if len(calls) == 1:
            return httpx.Response(503)
        start = int(request.headers["range"][6:-1]) if "range" in request.headers else 0
        return httpx.Response(206 if start else 200, content=data[start:])

    partial = tmp_path / "partial"
    partial.write_bytes(data[:1000])  # what an interrupted pull left
    client = RegistryClient(
        "reg.test", settings=RegistrySettings(), creds=None, transport=httpx.MockTransport(handler)
    )
    with open(partial, "ab") as fh:
        client.download_blob("ns/app", digest, fh, "reg.test/ns/app:1")
    assert partial.read_bytes() == data
    assert calls == ["bytes=1000-", "bytes=1000-"]
